"""French for refusals that carry a value ("'bob' would go below its limit of -10 h").

The domain writes its refusals in English with the values inside; a page
shows ``_(str(error))``. A message with a value cannot be a catalogue id,
so these are patterns: the English text with holes, and its French with
the same holes. A hole is

- ``{}``: the value as it is (a code, a host, a number);
- ``{?}``: a fragment the domain wrote in English ("the client's name"),
  put through ``FRAGMENTS``;
- ``{state}``: an exchange's or a contract's state, put through ``STATES``;
- ``{h}``: hours as the domain writes them ("1.5 h"), with a decimal comma.

Each French pattern must have the English one's holes, in any order is not
supported: same order (a test checks the holes match). A no-break space
(\u00a0) keeps ':' on the line of the word before it, as French typography wants.
"""

from __future__ import annotations

FR_PATTERNS: dict[str, str] = {
    # The time bank (models/sel, node/sel.py).
    "no SEL account {} (see 'coopnet sel balances')": (
        "aucun compte SEL {} (voir « coopnet sel balances »)"
    ),
    "{}: an account code is lowercase letters, digits, '.', '-', '_'": (
        "{}\u00a0: un code de compte s'écrit en minuscules, chiffres, « . », « - », « _ »"
    ),
    "the account {} already exists": "le compte {} existe déjà",
    "the account {} is {state}": "le compte {} est {state}",
    "{} would go below its limit of {h} (balance {h}, reserved {h})": (
        "{} passerait sous sa limite de {h} (solde {h}, réservé {h})"
    ),
    "{} would go above its limit of {h} (balance {h})": (
        "{} dépasserait sa limite de {h} (solde {h})"
    ),
    "{} is not a SEL peer of this section: the admin adds it with 'coopnet sel peer'": (
        "{} n'est pas une section paire du SEL\u00a0: "
        "la coordination l'ajoute avec « coopnet sel peer »"
    ),
    "{}: name the other member as code@section-host": (
        "{}\u00a0: nommez l'autre membre sous la forme code@hôte-de-la-section"
    ),
    "category must be one of: {}": "la catégorie doit être l'une de\u00a0: {}",
    "no exchange {} (see 'coopnet sel history')": "aucun échange {} (voir « coopnet sel history »)",
    "this exchange is {state}; only an awaiting one can be answered": (
        "cet échange est {state}\u00a0: seul un échange à confirmer peut recevoir une réponse"
    ),
    "only {} (the other party) can answer this exchange": (
        "seul {} (l'autre partie) peut répondre à cet échange"
    ),
    "this exchange is {state}; only a pending one can be confirmed": (
        "cet échange est {state}\u00a0: seul un échange en attente peut être confirmé"
    ),
    "this exchange is {state}; only a pending one can be rejected": (
        "cet échange est {state}\u00a0: seul un échange en attente peut être refusé"
    ),
    "this exchange is {state}; only a pending one can be withdrawn": (
        "cet échange est {state}\u00a0: seul un échange en attente peut être retiré"
    ),
    "this exchange is {state}; only a confirmed one can be cancelled": (
        "cet échange est {state}\u00a0: seul un échange confirmé peut être annulé"
    ),
    "{?} {} is too large": "{?} {} est trop grand",
    "{?} {}: write hours like 1.5, 1h30 or 90m": (
        "{?} {}\u00a0: écrivez des heures comme 1,5, 1h30 ou 90m"
    ),
    "duration {}: must be positive (more than zero minutes)": (
        "durée {}\u00a0: elle doit être positive (plus de zéro minute)"
    ),
    "an amount over {} hours is refused": "un montant de plus de {} heures est refusé",
    "{}: balance {h} is outside the new limits; settle exchanges first": (
        "{}\u00a0: le solde de {h} sort des nouvelles limites\u00a0; réglez d'abord des échanges"
    ),
    "{}: only an account at zero, with nothing held, can close": (
        "{}\u00a0: seul un compte à zéro, sans rien de réservé, peut être fermé"
    ),
    "{} is not a coopnet section": "{} n'est pas une section coopnet",
    # Contracts and receipts (models/charter).
    "{?} is required": "{?}\u00a0: ce champ est obligatoire",
    "{?}: at most {} characters": "{?}\u00a0: {} caractères au plus",
    "the {?} date must be written YYYY-MM-DD": "la date de {?} s'écrit AAAA-MM-JJ",
    "the section's share must be in the contract's currency ({})": (
        "la part de la section doit être dans la monnaie du contrat ({})"
    ),
    "this contract is {state}: no new signing link": (
        "ce contrat est {state}\u00a0: pas de nouveau lien de signature"
    ),
    "only a signed contract can end (this one is {state})": (
        "seul un contrat signé peut prendre fin (celui-ci est {state})"
    ),
    "only a contract not yet signed can be cancelled (this one is {state})": (
        "seul un contrat pas encore signé peut être annulé (celui-ci est {state})"
    ),
    "only a signed contract has a copy (this one is {state})": (
        "seul un contrat signé a une copie (celui-ci est {state})"
    ),
    "satisfaction is asked on a signed contract (this one is {state})": (
        "la satisfaction se demande sur un contrat signé (celui-ci est {state})"
    ),
    "{?}: write an amount and an optional currency, e.g. 25 EUR": (
        "{?}\u00a0: écrivez un montant et, si besoin, une monnaie, par ex. 25 EUR"
    ),
    "{?}: between 0 and 1,000,000,000": "{?}\u00a0: entre 0 et 1 000 000 000",
    "{?}: too many decimals for this currency (nothing is rounded)": (
        "{?}\u00a0: trop de décimales pour cette monnaie (rien n'est arrondi)"
    ),
    # Alliances (models/network/alliance_protocol.py).
    "{} is not a coopnet node (its actor states no role seat or section)": (
        "{} n'est pas un nœud coopnet (son acteur ne se déclare ni siège ni section)"
    ),
    "{} is already an ally (since {})": "{} est déjà un allié (depuis le {})",
    "this node already asked {}; its coordinator has not answered yet "
    "(to withdraw the request: coopnet peer remove {})": (
        "ce nœud a déjà demandé {}\u00a0; sa coordination n'a pas encore répondu "
        "(pour retirer la demande\u00a0: coopnet peer remove {})"
    ),
    "this section already has a seat, {}: a section has one seat at a time "
    "(end that alliance first: coopnet peer remove {})": (
        "cette section a déjà un siège, {}\u00a0: une section n'a qu'un siège à la fois "
        "(mettez d'abord fin à cette alliance\u00a0: coopnet peer remove {})"
    ),
    # Obligations, reports, Club Aide, contact requests (models/network).
    "{} is not a month: write it as 2026-09": "{} n'est pas un mois\u00a0: écrivez-le 2026-09",
    "{} is not a semester: write it as 2026-S2": (
        "{} n'est pas un semestre\u00a0: écrivez-le 2026-S2"
    ),
    "already recorded as done (record #{}): cancel that one first to change it": (
        "déjà saisie comme faite (saisie n°\u00a0{})\u00a0: annulez-la d'abord pour la changer"
    ),
    "record {} was already cancelled": "la saisie {} était déjà annulée",
    "the note is over {} characters": "la note dépasse {} caractères",
    "the note is over {} characters; shorten it": (
        "la note dépasse {} caractères\u00a0; raccourcissez-la"
    ),
    "the reason is over {} characters": "la raison dépasse {} caractères",
    "the message is over {} characters": "le message dépasse {} caractères",
    "the text is over {} characters: shorten it": (
        "le texte dépasse {} caractères\u00a0: raccourcissez-le"
    ),
    "{} has not begun: a report counts what happened": (
        "{} n'a pas commencé\u00a0: un rapport compte ce qui s'est passé"
    ),
    "you have sent {} requests in the last 24 hours; try again tomorrow": (
        "vous avez envoyé {} demandes ces dernières 24 heures\u00a0; réessayez demain"
    ),
    "{?}: this field is required": "{?}\u00a0: ce champ est obligatoire",
    "{?}: contains a control character": "{?}\u00a0: contient un caractère de contrôle",
    "{?}: a single line is expected": "{?}\u00a0: une seule ligne est attendue",
}

#: The English fragments the domain names fields with.
FR_FRAGMENTS: dict[str, str] = {
    "duration": "durée",
    "lower limit": "limite basse",
    "upper limit": "limite haute",
    "our members' spending there": "dépenses de nos membres là-bas",
    "their members' spending here": "dépenses de leurs membres ici",
    "the client's name": "le nom du client",
    "the service": "le service",
    "the duration": "la durée",
    "the price": "le prix",
    "the section's share": "la part de la section",
    "start": "début",
    "end": "fin",
}

#: States as they appear inside refusals (exchanges, accounts, contracts).
FR_STATES: dict[str, str] = {
    "pending": "en attente",
    "awaiting": "à confirmer",
    "confirmed": "confirmé",
    "rejected": "refusé",
    "withdrawn": "retiré",
    "cancelled": "annulé",
    "expired": "expiré",
    "held": "réservé",
    "settled": "réglé",
    "committed": "inscrit",
    "refused": "refusé",
    "requested": "demandé",
    "open": "ouvert",
    "closed": "fermé",
    "suspended": "suspendu",
    "draft": "brouillon",
    "signed": "signé",
    "handed_in": "remis à la section",
    "ended": "terminé",
}
