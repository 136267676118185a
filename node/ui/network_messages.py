"""French for the coordinator's network page, /admin/network (message ids are the English text).

``EN`` gives English words to the ids that are codes (an alliance's state
and a peer's role, shown through ``_("alliance-" ~ state)``).
"""

from __future__ import annotations

FR: dict[str, str] = {
    "Network": "Réseau",
    "The network": "Le réseau",
    "Two nodes become allies when both coordinators agree. Allies follow each other (offers "
    "and bulletins flow) and may trade in the SEL.": (
        "Deux nœuds deviennent alliés quand les deux coordinations sont d'accord. Les alliés se "
        "suivent (offres et bulletins circulent) et peuvent échanger dans le SEL."
    ),
    "Our seat": "Notre siège",
    "Our sections": "Nos sections",
    "No seat yet: ask the seat of your network for an alliance below.": (
        "Pas encore de siège : demandez une alliance au siège de votre réseau ci-dessous."
    ),
    "No section yet.": "Aucune section pour l'instant.",
    "Allied sections": "Sections alliées",
    "Requests waiting for us": "Demandes qui nous attendent",
    "No request is waiting for us.": "Aucune demande ne nous attend.",
    "Refuse": "Refuser",
    "Reason (optional, sent to them)": "Raison (facultative, elle leur est envoyée)",
    "Our requests waiting": "Nos demandes en attente",
    "No request of ours is waiting.": "Aucune de nos demandes n'est en attente.",
    "Withdraw the request": "Retirer la demande",
    "Alliances": "Alliances",
    "No alliance yet.": "Aucune alliance pour l'instant.",
    "End this alliance": "Mettre fin à cette alliance",
    "The follows between the two nodes end; SEL clearing accounts stay for the books, and no "
    "new exchange starts.": (
        "Les abonnements entre les deux nœuds prennent fin ; les comptes de compensation du SEL "
        "restent pour les comptes, et aucun nouvel échange ne commence."
    ),
    "I confirm": "Je confirme",
    "End it": "Y mettre fin",
    "Ask a node for an alliance": "Demander une alliance à un nœud",
    "Node to ask": "Nœud à qui demander",
    "name@host of its node, or the address of its profile (https://…).": (
        "nom@hôte de son nœud, ou l'adresse de son profil (https://…)."
    ),
    "Note (optional, sent with the request)": "Mot (facultatif, envoyé avec la demande)",
    "Ask": "Demander",
    "Past requests": "Demandes passées",
    "asked by us": "demandée par nous",
    "asked by them": "demandée par eux",
    "Node": "Nœud",
    "alliance-requested": "demandée",
    "alliance-pending": "en attente de notre réponse",
    "alliance-accepted": "acceptée",
    "alliance-rejected": "refusée",
    "alliance-ended": "terminée",
    "role-seat": "siège",
    "role-section": "section",
    "Alliance requested; it becomes one when their coordinator approves.": (
        "Alliance demandée ; elle prend effet quand leur coordination l'accepte."
    ),
    "They had asked first: you are now allies.": (
        "Ils l'avaient demandée les premiers : vous êtes maintenant alliés."
    ),
    "Alliance accepted: the two nodes now follow each other.": (
        "Alliance acceptée : les deux nœuds se suivent maintenant."
    ),
    "Request refused; they are told.": "Demande refusée ; ils en sont informés.",
    "Alliance ended; they are told.": "Alliance terminée ; ils en sont informés.",
    "tick 'I confirm' to end the alliance": "cochez « Je confirme » pour mettre fin à l'alliance",
}

EN: dict[str, str] = {
    "alliance-requested": "requested",
    "alliance-pending": "waiting for our answer",
    "alliance-accepted": "accepted",
    "alliance-rejected": "refused",
    "alliance-ended": "ended",
    "role-seat": "seat",
    "role-section": "section",
}
