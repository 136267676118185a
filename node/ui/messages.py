"""French for the strings of the account pages (message ids are the English text).

Refusals from the domain that people meet on these pages are here too:
the page shows ``_(str(error))``, so a message without a translation
stays in English rather than disappearing.
"""

from __future__ import annotations

FR: dict[str, str] = {
    "Log in": "Se connecter",
    "Log out": "Se déconnecter",
    "Log out everywhere": "Se déconnecter partout",
    "Account": "Compte",
    "Account name": "Nom du compte",
    "Password": "Mot de passe",
    "Sessions": "Sessions",
    "Language": "Langue",
    "As my browser": "Comme mon navigateur",
    "Save": "Enregistrer",
    "Choose your password": "Choisissez votre mot de passe",
    "New password (10 characters or more)": "Nouveau mot de passe (10 caractères ou plus)",
    "The same password again": "Le même mot de passe, à nouveau",
    "Save and log in": "Enregistrer et se connecter",
    "No account, or a forgotten password? Your section's coordinator gives you a link to "
    "choose one.": (
        "Pas de compte, ou mot de passe oublié ? La coordination de votre section vous "
        "donne un lien pour en choisir un."
    ),
    "coordinator": "coordination",
    "mediator": "médiation",
    "member": "membre",
    # Refusals shown on these pages.
    "wrong account name or password": "nom de compte ou mot de passe incorrect",
    "too many failed attempts: wait 15 minutes, or ask your coordinator for a new link": (
        "trop d'essais manqués : attendez 15 minutes, ou demandez un nouveau lien à la coordination"
    ),
    "the two passwords differ": "les deux mots de passe diffèrent",
    "the password must have at least 10 characters": (
        "le mot de passe doit avoir au moins 10 caractères"
    ),
    "the password must have at most 1024 characters": (
        "le mot de passe doit avoir au plus 1024 caractères"
    ),
    "this link is not valid any more (used, replaced or older than 7 days): ask your "
    "coordinator for a new one": (
        "ce lien n'est plus valable (déjà utilisé, remplacé ou vieux de plus de 7 jours) : "
        "demandez-en un nouveau à la coordination"
    ),
    "this link has just been used: log in, or ask for a new one": (
        "ce lien vient d'être utilisé : connectez-vous, ou demandez-en un nouveau"
    ),
    "this account is disabled: ask your coordinator": (
        "ce compte est désactivé : adressez-vous à la coordination"
    ),
}
