"""French for the report and dashboard pages (message ids are the English text).

``EN`` gives English words to the ids that are codes (a report's state,
shown through ``_("report-" ~ state)``). A no-break space (\u00a0) keeps
':' on the line of the word before it, as French typography wants.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "report-draft": "not sent",
    "report-sent": "sent, not acknowledged yet",
    "report-acknowledged": "acknowledged",
    "report-refused": "refused by the seat",
}

FR: dict[str, str] = {
    "report-draft": "non envoyé",
    "report-sent": "envoyé, pas encore reçu par le siège",
    "report-acknowledged": "accusé de réception reçu",
    "report-refused": "refusé par le siège",
    "The seat's reason:": "La raison du siège\u00a0:",
    "Correct the report and send it again.": "Corrigez le rapport et renvoyez-le.",
    # Navigation.
    "Reports": "Rapports",
    "Dashboard": "Tableau de bord",
    # /admin/reports
    "Report to the seat": "Rapport au siège",
    "Each semester the section sends its seat an evaluation report: figures counted from this "
    "node's data, and your text. It goes to the seat only, never to the public or to "
    "followers.": (
        "Chaque semestre, la section envoie au siège un rapport d'évaluation\u00a0: des chiffres "
        "comptés à partir des données de ce nœud, et votre texte. Il ne va qu'au siège, jamais "
        "au public ni aux abonnés."
    ),
    "This node has no seat yet: ally with the seat first (Network page, or 'coopnet peer "
    "add'), then send.": (
        "Ce nœud n'a pas encore de siège\u00a0: alliez-vous d'abord avec le siège (page Réseau, "
        "ou «\u00a0coopnet peer add\u00a0»), puis envoyez."
    ),
    "Seat:": "Siège\u00a0:",
    "State": "État",
    "sent": "envoyé le",
    "acknowledged by the seat": "reçu par le siège le",
    "Changed since it was sent: send it again to replace the seat's copy.": (
        "Modifié depuis l'envoi\u00a0: envoyez-le à nouveau pour remplacer la copie du siège."
    ),
    "Not composed yet: save the text below to count the figures.": (
        "Pas encore rédigé\u00a0: enregistrez le texte ci-dessous pour compter les chiffres."
    ),
    "Figures": "Chiffres",
    "Counted from this node's data up to": "Comptés à partir des données de ce nœud jusqu'au",
    "Text, as the seat will read it": "Le texte, tel que le siège le lira",
    "Your text": "Votre texte",
    "What the figures do not say: the semester's events, difficulties, projects (Markdown)": (
        "Ce que les chiffres ne disent pas\u00a0: les événements du semestre, les difficultés, "
        "les projets (Markdown)"
    ),
    "Save and count the figures": "Enregistrer et compter les chiffres",
    "Send to the seat": "Envoyer au siège",
    "Send again to the seat": "Envoyer à nouveau au siège",
    "Every report": "Tous les rapports",
    "Text": "Texte",
    "Semester": "Semestre",
    "Report saved; the figures were counted again.": (
        "Rapport enregistré\u00a0; les chiffres ont été recomptés."
    ),
    "Report sent to the seat. It shows as acknowledged once the seat's node answers.": (
        "Rapport envoyé au siège. Il apparaîtra comme reçu dès que le nœud du siège répondra."
    ),
    # Refusals met on the page.
    "this node has no seat to report to: ally with the seat first ('coopnet peer add' with the "
    "seat's account, then the seat approves)": (
        "ce nœud n'a pas de siège à qui faire rapport\u00a0: alliez-vous d'abord avec le siège "
        "(«\u00a0coopnet peer add\u00a0» avec le compte du siège, puis le siège approuve)"
    ),
    # /admin/dashboard
    "Network dashboard": "Tableau de bord du réseau",
    "Every section's semi-annual report, side by side, as the sections sent them.": (
        "Les rapports semestriels de chaque section, côte à côte, tels que les sections les "
        "ont envoyés."
    ),
    "No report received yet. Sections send theirs from their own Reports page.": (
        "Aucun rapport reçu pour l'instant. Les sections envoient le leur depuis leur page "
        "Rapports."
    ),
    "At a glance": "En un coup d'œil",
    "Figures per section": "Chiffres par section",
    "Figure": "Chiffre",
    "Network": "Réseau",
    "Report": "Rapport",
    "received": "reçu le",
    "missing": "manquant",
    "The sections' words": "Les mots des sections",
    "Hostings bought per mediator, against the aim of six": (
        "Hébergements achetés par médiateur, face à l'objectif de six"
    ),
    "One bar per section: hostings bought per mediator in the semester. The dashed line is the "
    "charter's aim, six a semester. The table gives the same figures.": (
        "Une barre par section\u00a0: les hébergements achetés par médiateur dans le semestre. "
        "La ligne en tirets est l'objectif de la charte, six par semestre. Le tableau donne "
        "les mêmes chiffres."
    ),
    "aim: 6": "objectif\u00a0: 6",
    "SEL hours exchanged per section": "Heures de SEL échangées par section",
    "One bar per section: hours exchanged in the SEL, inside the section and with peer "
    "sections. The table gives the same figures.": (
        "Une barre par section\u00a0: les heures échangées dans le SEL, au sein de la section et "
        "avec les sections pairs. Le tableau donne les mêmes chiffres."
    ),
    # Figure labels (node/network/reports.py LABELS).
    "Mediators": "Médiateurs",
    "Mediators certified": "Médiateurs certifiés",
    "Mediators active": "Médiateurs actifs",
    "Hostings bought": "Hébergements achetés",
    "Hostings aimed at (6 per mediator)": "Hébergements visés (6 par médiateur)",
    "Hostings due by now (1 a month)": "Hébergements dus à ce jour (1 par mois)",
    "Hostings per mediator": "Hébergements par médiateur",
    "Mediators keeping the aim": "Médiateurs qui tiennent l'objectif",
    "Help requests asked (Club Aide)": "Demandes d'aide posées (Club Aide)",
    "Help requests answered": "Demandes d'aide ayant reçu une proposition",
    "Help offers taken up (first meeting free)": "Aides acceptées (premier entretien gratuit)",
    "Help requests withdrawn": "Demandes d'aide retirées",
    "Problems resolved": "Problèmes résolus",
    "Problems partly resolved": "Problèmes en partie résolus",
    "Problems not resolved": "Problèmes non résolus",
    "Offers of help made by our people": "Propositions d'aide faites par nos membres",
    "Our offers of help taken up": "Nos propositions d'aide acceptées",
    "Mediators behind on hostings (bought so far)": (
        "Médiateurs en retard d'hébergements (achetés à ce jour)"
    ),
    "Contracts signed": "Contrats signés",
    "Contracts handed in": "Contrats remis",
    "Contracts not handed in yet": "Contrats pas encore remis",
    "Section's shares handed in": "Parts de la section versées",
    "Receipts issued": "Reçus émis",
    "Receipts cancelled": "Reçus annulés",
    "Sums received (receipts)": "Sommes reçues (reçus)",
    "Satisfaction asked": "Satisfaction demandée",
    "Satisfaction ratings": "Avis de satisfaction",
    "Average rating (out of 5)": "Note moyenne (sur 5)",
    "SEL exchanges in the section": "Échanges SEL dans la section",
    "SEL hours in the section": "Heures SEL dans la section",
    "SEL exchanges with each peer": "Échanges SEL avec chaque section pair",
    "SEL hours paid to peers": "Heures SEL payées aux sections pairs",
    "SEL hours received from peers": "Heures SEL reçues des sections pairs",
    "SEL exchanges with peers": "Échanges SEL avec les sections pairs",
    "SEL hours with peers": "Heures SEL avec les sections pairs",
    "Bulletins published": "Bulletins publiés",
    "Months with a bulletin": "Mois avec un bulletin",
}
