"""French for the Club Aide pages and refusals (message ids are the English text)."""

from __future__ import annotations

FR: dict[str, str] = {
    "Club Aide": "Club Aide",
    "Club Aide: my requests": "Club Aide : mes demandes",
    "Club Aide: ask the network for help": "Club Aide : demander l'aide du réseau",
    "Club Aide: requests of the network": "Club Aide : les demandes du réseau",
    "Club Aide: help requests": "Club Aide : demandes d'aide",
    "Help requests (Club Aide)": "Demandes d'aide (Club Aide)",
    "Help requests": "Demandes d'aide",
    "Requests of the network": "Demandes du réseau",
    "The first meeting is always free.": "Le premier entretien est toujours gratuit.",
    "Your request goes to the allied sections without your name: they see the problem, never "
    "who asks. You choose what to share, and when.": (
        "Votre demande part vers les sections alliées sans votre nom : elles voient le "
        "problème, jamais qui le pose. Vous choisissez ce que vous partagez, et quand."
    ),
    "Ask for help": "Demander de l'aide",
    "Your problem, briefly, and by when": "Votre problème, en bref, et pour quand",
    "Do not write your name, e-mail, telephone or address here: it is sent as you write it.": (
        "N'écrivez ici ni votre nom, ni votre courriel, ni votre téléphone, ni votre adresse : "
        "le texte part tel que vous l'écrivez."
    ),
    "optional": "facultatif",
    "Send to the network": "Envoyer au réseau",
    "My requests": "Mes demandes",
    "Request open": "Ouverte",
    "Helper found": "Aide trouvée",
    "Request closed": "Close",
    "Request withdrawn": "Retirée",
    "Request expired": "Expirée",
    "Solved": "Résolu",
    "Partly solved": "En partie résolu",
    "Not solved": "Non résolu",
    "asked on": "demandée le",
    "open until (help)": "ouverte jusqu'au",
    "My note on the outcome:": "Ma note sur le résultat :",
    "Offers of help": "Propositions d'aide",
    "a member of": "un membre de",
    "Accepted": "Acceptée",
    "First meeting without charge, recorded on": "Premier entretien gratuit, noté le",
    "My message:": "Mon message :",
    "Message to the helper (optional: write your contact details only if you wish)": (
        "Message à l'aidant (facultatif : n'y mettez vos coordonnées que si vous le souhaitez)"
    ),
    "Accept this offer (first meeting free)": "Accepter cette aide (premier entretien gratuit)",
    "No offer yet.": "Pas encore de proposition.",
    "Report the outcome": "Donner le résultat",
    "Is your problem solved?": "Votre problème est-il résolu ?",
    "Note (optional, stays in this section)": "Note (facultative, reste dans cette section)",
    "Withdraw the request": "Retirer la demande",
    "You have not asked for help yet.": "Vous n'avez pas encore demandé d'aide.",
    "Help I offered": "L'aide que j'ai proposée",
    "your offer is accepted": "votre proposition est acceptée",
    "waiting for an answer": "en attente de réponse",
    "The first meeting is without charge.": "Le premier entretien est gratuit.",
    "The requester's message:": "Le message de la personne aidée :",
    "Members of this section and of the allied sections ask for help here, without their "
    "names. Offer what you can: the first meeting is always free. Keep what you read "
    "confidential.": (
        "Les membres de cette section et des sections alliées demandent de l'aide ici, sans "
        "leur nom. Proposez ce que vous pouvez : le premier entretien est toujours gratuit. "
        "Gardez confidentiel ce que vous lisez."
    ),
    "You offered help.": "Vous avez proposé votre aide.",
    "See its answer": "Voir la réponse",
    "How can you help?": "Comment pouvez-vous aider ?",
    "Sign with (optional: your name, or leave empty to stay anonymous)": (
        "Signer (facultatif : votre nom, ou rien pour rester anonyme)"
    ),
    "Offer help": "Proposer mon aide",
    "No open request in the network.": "Aucune demande ouverte dans le réseau.",
    "Counts only: who asks is known to nobody but the member; responders and coordinators see "
    "the problem, never the person.": (
        "Des nombres seulement : qui demande n'est connu que du membre ; les aidants et les "
        "coordinateurs voient le problème, jamais la personne."
    ),
    "Asked by our members": "Demandées par nos membres",
    "Received from allied sections": "Reçues des sections alliées",
    "None yet.": "Aucune pour l'instant.",
    "made offered": "proposées par nos membres, en attente",
    "made accepted": "proposées par nos membres, acceptées",
    "received offered": "reçues pour nos demandes, en attente",
    "received accepted": "reçues pour nos demandes, acceptées",
    # Notices.
    "Your request is sent to the allied sections, without your name.": (
        "Votre demande est envoyée aux sections alliées, sans votre nom."
    ),
    "Offer accepted: the helper is told. The first meeting is free.": (
        "Aide acceptée : l'aidant en est informé. Le premier entretien est gratuit."
    ),
    "Thank you: the outcome is recorded.": "Merci : le résultat est enregistré.",
    "Request withdrawn: the other sections drop it.": (
        "Demande retirée : les autres sections l'effacent."
    ),
    "Your offer is sent. You will see here when it is accepted.": (
        "Votre proposition est envoyée. Vous verrez ici quand elle sera acceptée."
    ),
    # Refusals (models/network/help.py).
    "Signature": "Signature",
    "Offer of help": "Proposition d'aide",
    "Outcome": "Résultat",
    "Message": "Message",
    "Description": "Description",
    "only a person with an account of the section asks for or offers help": (
        "seule une personne ayant un compte de la section demande ou propose de l'aide"
    ),
    "no such help request of yours": "vous n'avez pas de telle demande d'aide",
    "no such open help request": "pas de demande d'aide ouverte de ce nom",
    "no such offer on this request": "pas de telle proposition pour cette demande",
    "this offer is already accepted": "cette proposition est déjà acceptée",
    "this is your own request": "c'est votre propre demande",
    "this request is already closed or withdrawn": "cette demande est déjà close ou retirée",
    "the outcome is one of: resolved, partly, unresolved": (
        "le résultat est l'un de : résolu, en partie, non résolu"
    ),
    "this request is closed, withdrawn or expired: no offer can be accepted": (
        "cette demande est close, retirée ou expirée : aucune proposition ne peut être acceptée"
    ),
    "the outcome of this request is already reported, or it was withdrawn": (
        "le résultat de cette demande est déjà donné, ou elle a été retirée"
    ),
    "the section that asked is not reachable from here any more": (
        "la section qui demande n'est plus joignable d'ici"
    ),
}

#: English where the message id is not the English text itself.
EN: dict[str, str] = {"open until (help)": "open until"}
