"""French for the obligations page and the mediator's block (message ids are the English text).

The charter's own words are French already (models/network/obligations.py
``CATALOGUE``, field ``charter``); the titles here are short French names
for them. A no-break space (\u00a0) keeps ':' on the line of the word before.
"""

from __future__ import annotations

FR: dict[str, str] = {
    "Obligations": "Obligations",
    "Obligations of the charter": "Obligations de la charte",
    "My obligations": "Mes obligations",
    "As of": "Au",
    "late": "en retard",
    "due": "à faire",
    "done": "faites",
    "Late": "En retard",
    "Due": "À faire",
    "Done": "Fait",
    "Not applicable": "Sans objet",
    "recorded by hand": "saisie à la main",
    "once": "une fois",
    "Mark done today": "Marquer fait aujourd'hui",
    "Cancel this record": "Annuler cette saisie",
    "Computed from the node's data (bulletins, reports, hostings, contracts, receipts, "
    "certifications); what no data shows is recorded by hand. Monthly obligations: this "
    "month and the last; semi-annual ones: this semester and the last.": (
        "Calculées à partir des données du nœud (bulletins, rapports, hébergements, contrats, "
        "reçus, certifications)\u00a0; ce qu'aucune donnée ne montre est saisi à la main. "
        "Obligations mensuelles\u00a0: ce mois-ci et le précédent\u00a0; semestrielles\u00a0: "
        "ce semestre et le précédent."
    ),
    "Allied sections": "Sections alliées",
    "What this node received from each section: its bulletins, its reports and the figures "
    "in them, and what is recorded here about it.": (
        "Ce que ce nœud a reçu de chaque section\u00a0: ses bulletins, ses rapports et leurs "
        "chiffres, et ce qui est saisi ici à son sujet."
    ),
    "Record an obligation done": "Saisir une obligation faite",
    "Obligation": "Obligation",
    "Period": "Période",
    "A month as 2026-09, a semester as 2026-S2; nothing for a one-time obligation.": (
        "Un mois comme 2026-09, un semestre comme 2026-S2\u00a0; rien pour une obligation unique."
    ),
    "Who": "Qui",
    "this node": "ce nœud",
    "Done on": "Fait le",
    "Records": "Saisies",
    "Nothing recorded by hand yet.": "Rien n'a encore été saisi à la main.",
    "Only the latest ones are shown; 'coopnet obligation list' lists them all.": (
        "Seules les plus récentes sont affichées\u00a0; «\u00a0coopnet obligation list\u00a0» "
        "les liste toutes."
    ),
    "Recorded: the obligation counts as done for that period.": (
        "Saisie enregistrée\u00a0: l'obligation compte comme faite pour cette période."
    ),
    "Record cancelled; it stays listed but no longer counts.": (
        "Saisie annulée\u00a0; elle reste listée mais ne compte plus."
    ),
    "What the section's data shows of your obligations to it, as of today.": (
        "Ce que les données de la section montrent de vos obligations envers elle, à ce jour."
    ),
    # Relations.
    "Seat → section": "Siège → section",
    "Section → seat": "Section → siège",
    "Section → mediator": "Section → médiateur",
    "Mediator → section": "Médiateur → section",
    "Mediator → client": "Médiateur → client",
    # The obligations.
    "Monthly bulletin to the whole network": "Bulletin mensuel à tout le réseau",
    "Authorisation to certify mediators": "Autorisation de certifier des médiateurs",
    "Online documentation delivered": "Documentation en ligne livrée",
    "Two delegates at the periodic evaluation meeting": (
        "Deux délégués à la rencontre périodique d'évaluation"
    ),
    "Monthly bulletin to the section's members": "Bulletin mensuel aux membres de la section",
    "Semi-annual evaluation report delivered to the seat": (
        "Rapport semestriel d'évaluation livré au siège"
    ),
    "Hostings per mediator, as the report gives them": (
        "Hébergements par médiateur, selon le rapport"
    ),
    "List of mediators kept up to date": "Liste des médiateurs tenue à jour",
    "Moderation of the community's requests followed up": (
        "Suivi de la modération des requêtes de la communauté"
    ),
    "The section's access conditions defined and delivered": (
        "Conditions d'accès de la section définies et livrées"
    ),
    "General hosting conditions accepted": "Conditions générales d'hébergement acceptées",
    "Took part in the network's monthly coordination": (
        "Présente à la coordination mensuelle du réseau"
    ),
    "An accessible office for the mediators": "Une structure accessible aux médiateurs",
    "Basic training and a starter kit given": "Formation de base et kit de démarrage fournis",
    "Pricing policy published": "Politique tarifaire publiée",
    "One hosting bought a month (six a semester)": (
        "Un hébergement acheté par mois (six par semestre)"
    ),
    "Signed contract handed in with the section's share": (
        "Contrat signé remis avec la part de la section"
    ),
    "Attended the monthly coordination": "Présent à la coordination mensuelle",
    "A receipt for every contract paid": "Un reçu pour chaque contrat payé",
    # Details.
    "no seat allied": "aucun siège allié",
    "deadline {day}": "échéance le {day}",
    "behind: {bought} bought, {ended} month(s) ended": (
        "en retard\u00a0: {bought} acheté(s), {ended} mois écoulé(s)"
    ),
    "{bought} of {aim}": "{bought} sur {aim}",
    "{bought} bought, {due} due by the end of this month": (
        "{bought} acheté(s), {due} attendu(s) d'ici la fin du mois"
    ),
    "{name} (removed, still certified)": "{name} (retiré, encore certifié)",
    "{name} (certification revoked)": "{name} (certification révoquée)",
    "{name} (not certified)": "{name} (non certifié)",
    "{contract} (signed {day})": "{contract} (signé le {day})",
    "{contract} (paid with an article)": "{contract} (payé par un article)",
    "not in the report": "absent du rapport",
    "behind: {names} ({counts}; aim {aim})": (
        "en retard\u00a0: {names} ({counts}\u00a0; objectif {aim})"
    ),
    "every mediator on aim (report of {day})": (
        "chaque médiateur tient l'objectif (rapport du {day})"
    ),
    # Refusals.
    "already recorded as done by someone else just now": (
        "déjà saisie comme faite par quelqu'un d'autre à l'instant"
    ),
    "the day it was done cannot be in the future: check the date": (
        "le jour où elle a été faite ne peut pas être dans le futur\u00a0: vérifiez la date"
    ),
    "this obligation is done once: give no period (or 'once')": (
        "cette obligation se fait une fois\u00a0: ne donnez pas de période"
    ),
    "that month has not begun: an obligation is recorded when done": (
        "ce mois n'a pas commencé\u00a0: une obligation se saisit une fois faite"
    ),
    "that semester has not begun: an obligation is recorded when done": (
        "ce semestre n'a pas commencé\u00a0: une obligation se saisit une fois faite"
    ),
    "give the reason for the cancellation": "donnez la raison de l'annulation",
}
