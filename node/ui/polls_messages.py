"""French for the poll pages (message ids are the English text)."""

from __future__ import annotations

FR: dict[str, str] = {
    # Pages.
    "Polls": "Sondages",
    "Results": "Résultats",
    "Result": "Résultat",
    "Option": "Option",
    "Members": "Membres",
    "Fediverse": "Fédivers",
    "Total": "Total",
    "Voters: {m} member(s)": "Votants : {m} membre(s)",
    "{f} on the fediverse": "{f} sur le fédivers",
    "Members' ballots, by code ({n})": "Bulletins des membres, par code ({n})",
    "Each member received a code when voting: find yours to check that your ballot was "
    "counted, and recount the total.": (
        "Chaque membre a reçu un code en votant : retrouvez le vôtre pour vérifier que votre "
        "bulletin a été compté, et recomptez le total."
    ),
    "No ballots yet.": "Aucun bulletin pour l'instant.",
    "One member, one vote: members vote from their page; who voted is kept apart from what "
    "was chosen. A public poll is also published on the fediverse, where Mastodon users vote; "
    "their votes are counted apart.": (
        "Un membre, une voix : les membres votent depuis leur page ; qui a voté est gardé à "
        "part de ce qui a été choisi. Un sondage public est aussi publié sur le fédivers, où "
        "les comptes Mastodon votent ; leurs votes sont comptés à part."
    ),
    "The section's polls": "Les sondages de la section",
    "open": "ouvert",
    "closed": "clos",
    "public": "public",
    "members only": "membres seulement",
    "several choices": "plusieurs choix",
    "one choice": "un seul choix",
    "closes": "clôture le",
    "Close now": "Clore maintenant",
    "No polls yet.": "Aucun sondage pour l'instant.",
    "Only the latest ones are shown; 'coopnet poll list' lists them all.": (
        "Seuls les plus récents sont affichés ; « coopnet poll list » les liste tous."
    ),
    "Open a poll": "Ouvrir un sondage",
    "Question": "Question",
    "Options": "Options",
    "(one per line, 2 to {n})": "(une par ligne, de 2 à {n})",
    "Choices": "Choix",
    "Closing date": "Date de clôture",
    "Closing time": "Heure de clôture",
    "Who votes": "Qui vote",
    "members of this section only": "les membres de cette section seulement",
    "members and the fediverse (published as a public poll)": (
        "les membres et le fédivers (publié comme sondage public)"
    ),
    "Open the poll": "Ouvrir le sondage",
    "My page": "Ma page",
    "Your vote is recorded. Your ballot code:": (
        "Votre vote est enregistré. Votre code de bulletin :"
    ),
    "Keep it: the list of ballots shows every code with its choices, never a name, so you "
    "can check that yours was counted.": (
        "Gardez-le : la liste des bulletins montre chaque code avec ses choix, jamais un nom, "
        "pour que vous puissiez vérifier que le vôtre a été compté."
    ),
    "One member, one vote. Nobody sees who chose what: each ballot is listed by its code only.": (
        "Un membre, une voix. Personne ne voit qui a choisi quoi : chaque bulletin n'est "
        "listé que par son code."
    ),
    "open until": "ouvert jusqu'au",
    "public poll": "sondage public",
    "Your choice": "Votre choix",
    "Your choices": "Vos choix",
    "Vote": "Voter",
    "You have voted.": "Vous avez voté.",
    "Poll of the section": "Sondage de la section",
    "Members vote from their page; on Mastodon or any fediverse account, follow the section "
    "and answer the poll from your timeline.": (
        "Les membres votent depuis leur page ; depuis Mastodon ou tout compte du fédivers, "
        "suivez la section et répondez au sondage depuis votre fil."
    ),
    "{n} open, not voted yet": "{n} ouvert(s), pas encore voté",
    # Notices after a change.
    "Poll opened; members see it on their page.": (
        "Sondage ouvert ; les membres le voient sur leur page."
    ),
    "Poll closed; the result is published.": "Sondage clos ; le résultat est publié.",
    # Refusals (models/charter/polls.py, node/charter/polls.py, the forms).
    "question: this field is required": "question : ce champ est obligatoire",
    "question: at most 500 characters": "question : 500 caractères au plus",
    "question: contains a control character": "question : contient un caractère de contrôle",
    "option: at most 100 characters": "option : 100 caractères au plus",
    "option: contains a control character": "option : contient un caractère de contrôle",
    "give at least 2 options, one per line": "donnez au moins 2 options, une par ligne",
    "at most 20 options": "20 options au plus",
    "two options have the same text": "deux options ont le même texte",
    "audience: members or public": "public : membres ou public",
    "closing time: give it in UTC": "heure de clôture : donnez-la en UTC",
    "the closing time must be at least 5 minutes from now": (
        "la clôture doit être dans 5 minutes au moins"
    ),
    "the closing time must be within a year": "la clôture doit être dans moins d'un an",
    "{field}: write it as YYYY-MM-DD and HH:MM": "{field} : écrivez-la AAAA-MM-JJ et HH:MM",
    "this poll is closed": "ce sondage est clos",
    "this poll is already closed": "ce sondage est déjà clos",
    "choose an option": "choisissez une option",
    "this option is not one of the poll's": "cette option n'est pas une de celles du sondage",
    "this poll takes one choice only": "ce sondage n'accepte qu'un seul choix",
    "you have already voted in this poll: one member, one vote": (
        "vous avez déjà voté à ce sondage : un membre, une voix"
    ),
    "only members of the section vote (one member, one vote)": (
        "seuls les membres de la section votent (un membre, une voix)"
    ),
}
