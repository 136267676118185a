"""French for the directory's pages and the requests for contact (ids are the English text)."""

from __future__ import annotations

FR: dict[str, str] = {
    "Directory of offers": "Annuaire des offres",
    "Directory": "Annuaire",
    "Our offers and those of our allied sections, in one list.": (
        "Nos offres et celles des sections alliées, dans une seule liste."
    ),
    "Search": "Rechercher",
    "e.g. training, electricity": "par ex. formation, électricité",
    "All": "Toutes",
    "Price in": "Prix en",
    "euros (money)": "euros (monnaie)",
    "SEL hours": "heures SEL",
    "All sections": "Toutes les sections",
    "{n} offer(s)": "{n} offre(s)",
    "page {p} of {n}": "page {p} sur {n}",
    "No offer matches.": "Aucune offre ne correspond.",
    "Pages": "Pages",
    "Origin:": "Origine :",
    "Ask for contact": "Demander un contact",
    "Log in to ask for contact": "Se connecter pour demander un contact",
    "Your message goes to the author of this offer from our section, without your name, "
    "account or e-mail address. Write in it only what you want them to know; their answer "
    "appears on your page.": (
        "Votre message part vers l'auteur de cette offre au nom de notre section, sans votre "
        "nom, votre compte ni votre adresse e-mail. N'y écrivez que ce que vous voulez lui dire ; "
        "sa réponse apparaîtra sur votre page."
    ),
    "Your message": "Votre message",
    "Send": "Envoyer",
    "Back to the directory": "Retour à l'annuaire",
    "My requests for contact": "Mes demandes de contact",
    "Your request is on its way. The answer will appear here.": (
        "Votre demande est partie. La réponse apparaîtra ici."
    ),
    "Answer": "Réponse",
    "No answer yet.": "Pas encore de réponse.",
    "You have not asked for contact yet.": "Vous n'avez encore demandé aucun contact.",
    "write a short message for the mediator": "écrivez un court message pour le médiateur",
    "you already asked about this offer; wait for the answer": (
        "vous avez déjà demandé un contact pour cette offre ; attendez la réponse"
    ),
    "log in with your account of this section to ask for contact": (
        "connectez-vous avec votre compte de cette section pour demander un contact"
    ),
}

#: English is the message ids themselves.
EN: dict[str, str] = {}
