"""French for the mediator's pages (message ids are the English text).

The domain's refusals a mediator meets on these pages are here too: a page
shows ``_(str(error))``, so a message without a translation (one that
quotes what was typed, say) stays in English rather than disappearing.
"""

from __future__ import annotations

FR: dict[str, str] = {
    # Navigation and headings.
    "Mediator pages": "Pages de médiation",
    "My offers": "Mes offres",
    "New offer": "Nouvelle offre",
    "Replies": "Réponses",
    "Profile": "Profil",
    "unread": "non lues",
    "Unread replies from the fediverse:": "Réponses du fédivers non lues :",
    "Hostings bought from the section this semester:": (
        "Hébergements achetés à la section ce semestre :"
    ),
    "due by now:": "attendus à ce jour :",
    "the charter: one a month, six a semester": "la charte : un par mois, six par semestre",
    "The section itself: offers published in its name, and the replies people send to it.": (
        "La section elle-même : les offres publiées en son nom et les réponses qu'on lui envoie."
    ),
    "the section's profile is set in the node's settings, not here": (
        "le profil de la section se règle dans les réglages du nœud, pas ici"
    ),
    "Not allowed": "Non autorisé",
    "Not possible": "Impossible",
    "Back to your page": "Retour à votre page",
    # Profile.
    "What the public sees on your page and on Mastodon. Followers' servers are told of "
    "every change.": (
        "Ce que le public voit sur votre page et sur Mastodon. Les serveurs de vos abonnés "
        "sont prévenus de chaque changement."
    ),
    "See my public page": "Voir ma page publique",
    "Profile saved.": "Profil enregistré.",
    "Display name": "Nom affiché",
    "About you": "À propos de vous",
    "(plain text, 2000 characters at most)": "(texte simple, 2000 caractères au plus)",
    "(separated by commas)": "(séparées par des virgules)",
    "Picture (address of an image)": "Photo (adresse d'une image)",
    "Save the profile": "Enregistrer le profil",
    # Offers.
    "The offer is published: your followers and the section's receive it.": (
        "L'offre est publiée : vos abonnés et ceux de la section la reçoivent."
    ),
    "The offer is updated.": "L'offre est mise à jour.",
    "The offer is withdrawn.": "L'offre est retirée.",
    "Write a new offer": "Rédiger une nouvelle offre",
    "On offer": "En ligne",
    "Withdrawn": "Retirée",
    "Expired": "Expirée",
    "No end date": "Sans date de fin",
    "Ended": "Terminée le",
    "Change": "Modifier",
    "Withdraw": "Retirer",
    "Change the offer": "Modifier l'offre",
    "Preview": "Prévisualiser",
    "Preview of the offer": "Aperçu de l'offre",
    "Not published yet: check it, then press Publish below.": (
        "Pas encore publiée : vérifiez-la, puis appuyez sur Publier plus bas."
    ),
    "Title": "Titre",
    "Description": "Description",
    "(Markdown: **bold**, *italics*, lists with -, links)": (
        "(Markdown : **gras**, *italique*, listes avec -, liens)"
    ),
    "Category": "Catégorie",
    "Price in money": "Prix en argent",
    "(e.g. 25 EUR or 5000 XOF; leave empty if none)": (
        "(par ex. 25 EUR ou 5000 XOF ; vide s'il n'y en a pas)"
    ),
    "Price in SEL hours": "Prix en heures SEL",
    "(e.g. 1.5; leave empty if none)": "(par ex. 1,5 ; vide s'il n'y en a pas)",
    "(optional)": "(facultatif)",
    "(optional; the offer expires at the end of that day, UTC)": (
        "(facultatif ; l'offre expire à la fin de ce jour, UTC)"
    ),
    "Publish": "Publier",
    "Publish the changes": "Publier les modifications",
    "Withdraw the offer": "Retirer l'offre",
    "Withdrawing removes the offer from the site and from the timelines of those who follow "
    "you. It cannot be undone: to offer it again, write a new offer.": (
        "Retirer l'offre l'enlève du site et des fils de ceux qui vous suivent. C'est "
        "définitif : pour la proposer à nouveau, rédigez une nouvelle offre."
    ),
    "Yes, withdraw this offer": "Oui, retirer cette offre",
    "No, keep it": "Non, la garder",
    # Inbox.
    "Replies from the fediverse": "Réponses du fédivers",
    "Answers to your offers and posts, and mentions of you, from Mastodon and other "
    "fediverse accounts, newest first.": (
        "Les réponses à vos offres et publications, et les messages qui vous mentionnent, "
        "depuis Mastodon et d'autres comptes du fédivers, les plus récents d'abord."
    ),
    "Mark all as read": "Tout marquer comme lu",
    "New": "Nouveau",
    "private": "privé",
    "answered": "répondu",
    "Read and answer": "Lire et répondre",
    "Original": "Original",
    "No replies yet.": "Aucune réponse pour l'instant.",
    "Reply from": "Réponse de",
    "in reply to": "en réponse à",
    "Your answer": "Votre réponse",
    "Your answer is on its way to": "Votre réponse est en route vers",
    "Answer to": "Répondre à",
    "(public, like the reply: it also reaches your followers)": (
        "(publique, comme la réponse reçue : vos abonnés la reçoivent aussi)"
    ),
    "(private, like the message: only this person receives it)": (
        "(privée, comme le message reçu : seule cette personne la reçoit)"
    ),
    "Send the answer": "Envoyer la réponse",
    "Back to the replies": "Retour aux réponses",
    # Refusals met on these pages.
    "these pages are for mediators: your account has no mediator role": (
        "ces pages sont pour la médiation : votre compte n'a pas ce rôle"
    ),
    "you may act only for your own mediator profile": (
        "vous ne pouvez agir que pour votre propre profil de médiation"
    ),
    "only a coordinator of this section may do this": (
        "seule la coordination de cette section peut faire cela"
    ),
    "no such offer among this mediator's": "cette offre n'est pas parmi les vôtres",
    "only an offer still on offer can be changed": (
        "seule une offre encore en ligne peut être modifiée"
    ),
    "no such message": "message introuvable",
    "no such message in this inbox": "ce message n'est pas dans cette boîte",
    "no such message (deleted by its author?)": ("message introuvable (supprimé par son auteur ?)"),
    "the start date must be written YYYY-MM-DD": "la date de début s'écrit AAAA-MM-JJ",
    "the end date must be written YYYY-MM-DD": "la date de fin s'écrit AAAA-MM-JJ",
    "an offer needs a title": "une offre a besoin d'un titre",
    "the title is over 200 characters": "le titre dépasse 200 caractères",
    "an offer needs a description": "une offre a besoin d'une description",
    "the description is over 20000 characters": "la description dépasse 20000 caractères",
    "give a price in money (--price) and/or in SEL hours (--sel-hours)": (
        "indiquez un prix en argent et/ou en heures SEL"
    ),
    "the offer must end after it starts": "l'offre doit finir après son début",
    "the offer's end date has already passed": "la date de fin de l'offre est déjà passée",
    "contact must be a link: https://…, mailto:… or tel:…": (
        "le contact doit être un lien : https://…, mailto:… ou tel:…"
    ),
    "the offer is withdrawn; only a published offer can be updated": (
        "l'offre est retirée ; seule une offre publiée peut être modifiée"
    ),
    "the offer is expired; only a published offer can be updated": (
        "l'offre a expiré ; seule une offre publiée peut être modifiée"
    ),
    "the offer is already withdrawn": "l'offre est déjà retirée",
    "the offer is already expired": "l'offre a déjà expiré",
    "the name must have 1 to 100 characters": "le nom doit avoir de 1 à 100 caractères",
    "the summary is over 2000 characters": "la présentation dépasse 2000 caractères",
    "at most 20 skills of up to 60 characters each": (
        "20 compétences au plus, de 60 caractères chacune au plus"
    ),
    "the area is over 200 characters": "la zone dépasse 200 caractères",
    "the contact must start with https:// or http:// or mailto: or tel:": (
        "le contact doit commencer par https://, http://, mailto: ou tel:"
    ),
    "the avatar must start with https:// or http://": (
        "l'adresse de la photo doit commencer par https:// ou http://"
    ),
    "the contact is too long": "le contact est trop long",
    "the avatar is too long": "l'adresse de la photo est trop longue",
    "the answer is empty": "la réponse est vide",
    "the answer is over 5000 characters": "la réponse dépasse 5000 caractères",
    "this mediator was removed; it cannot answer": (
        "ce profil de médiation a été retiré : il ne peut plus répondre"
    ),
    "this person's account is gone: the answer cannot be delivered": (
        "le compte de cette personne n'existe plus : la réponse ne peut pas être remise"
    ),
}
