"""French for the contract pages: the mediator's, the coordinator's and the
client's (message ids are the English text).

The domain's fixed refusals are here too (a page shows ``_(str(error))``);
a refusal that quotes what was typed stays in English rather than
disappearing. A no-break space (\u00a0) keeps ':' on the line of the word
before it, as French typography wants.
"""

from __future__ import annotations

FR: dict[str, str] = {
    # Paging of the contract lists.
    "Page": "Page",
    "Pages": "Pages",
    # A new link to the client's copy (the first is shown once, after signing).
    "New link to the client's copy": "Nouveau lien vers la copie du client",
    "Give this read-only link to the client; it is shown only once:": (
        "Donnez ce lien en lecture seule au client\u00a0; il n'est affiché qu'une fois\u00a0:"
    ),
    "The earlier copy link stops working.": "L'ancien lien vers la copie ne fonctionne plus.",
    # Receipts named by a contract (its page).
    "Receipts for this contract": "Reçus de ce contrat",
    "No receipt names this contract yet.": "Aucun reçu ne mentionne encore ce contrat.",
    "Issue a receipt for a sum received under this contract": (
        "Émettre un reçu pour une somme reçue au titre de ce contrat"
    ),
    # Navigation, headings, states.
    "Contracts": "Contrats",
    "Contract": "Contrat",
    "All contracts": "Tous les contrats",
    "All my contracts": "Tous mes contrats",
    "No contracts yet.": "Aucun contrat pour l'instant.",
    "Hosting contract": "Contrat d'hébergement",
    "Draft": "Brouillon",
    "Awaiting the client's signature": "En attente de la signature du client",
    "Signed": "Signé",
    "Handed in to the section": "Remis à la section",
    "Cancelled": "Annulé",
    "Contract ended": "Terminé",
    # The contract as a document.
    "Client": "Client",
    "Service": "Service",
    "Duration": "Durée",
    "Section's share": "Part de la section",
    "paid": "versée",
    "Documents": "Documents",
    "contract model, version": "modèle de contrat, version",
    "general conditions, version": "conditions générales, version",
    "Signatures": "Signatures",
    "Accepted by the mediator": "Accepté par le médiateur",
    "Signed by the client": "Signé par le client",
    "Full name": "Nom complet",
    "Organisation": "Organisation",
    "Postal address": "Adresse postale",
    "E-mail": "Courriel",
    "Phone": "Téléphone",
    "Counterpart": "Contrepartie",
    "Money": "Argent",
    "An article about their volunteer commitment": "Un article sur son engagement bénévole",
    "Verified: the text, its SHA-256, the details and the node's signature match.": (
        "Vérifié\u00a0: le texte, son SHA-256, les coordonnées et la signature du nœud concordent."
    ),
    "ALTERED: this contract no longer matches what was signed.": (
        "ALTÉRÉ\u00a0: ce contrat ne correspond plus à ce qui a été signé."
    ),
    # The mediator's pages.
    "Shares due to the section (signed, not handed in):": (
        "Parts dues à la section (signés, non remis)\u00a0:"
    ),
    "none": "aucune",
    "New contract": "Nouveau contrat",
    "From one of your offers:": "À partir d'une de vos offres\u00a0:",
    "Client's name": "Nom du client",
    "e.g. 120 EUR or 50000 XOF": "par ex. 120 EUR ou 50000 XOF",
    "e.g. 12 months": "par ex. 12 mois",
    "Start date": "Date de début",
    "End date": "Date de fin",
    "in the contract's currency": "dans la monnaie du contrat",
    "Create the contract": "Créer le contrat",
    "Client satisfaction": "Satisfaction des clients",
    "rating(s)": "note(s)",
    "average": "moyenne",
    "No rating yet.": "Aucune note pour l'instant.",
    "Shown on your public page:": "Affichée sur votre page publique\u00a0:",
    "yes": "oui",
    "no": "non",
    "Hide it from my public page": "La retirer de ma page publique",
    "Show it on my public page": "L'afficher sur ma page publique",
    "Only the mediator can choose to show it.": "Seul le médiateur peut choisir de l'afficher.",
    "Give this link to the client; it is shown only once, works once, for 30 days:": (
        "Donnez ce lien au client\u00a0; il n'est montré qu'une fois et sert une fois, "
        "pendant 30 jours\u00a0:"
    ),
    "An earlier link stops working.": "Un lien précédent cesse de fonctionner.",
    "Give this link to the client for their rating and final comment (it works once):": (
        "Donnez ce lien au client pour sa note et son commentaire final (il sert une fois)\u00a0:"
    ),
    "Make the client's signing link": "Créer le lien de signature du client",
    "Make a new signing link": "Créer un nouveau lien de signature",
    "Cancel the contract": "Annuler le contrat",
    "Share paid to the section": "Part versée à la section",
    "Mark handed in to the section": "Marquer comme remis à la section",
    "End the contract (and ask for the client's rating)": (
        "Terminer le contrat (et demander la note du client)"
    ),
    "Ask for the client's rating": "Demander la note du client",
    # The coordinator's pages.
    "Only the latest contracts are listed here; 'coopnet contract list' lists them all. "
    "The totals count every contract.": (
        "Seuls les contrats les plus récents sont listés ici\u00a0; « coopnet contract list » "
        "les liste tous. Les totaux comptent tous les contrats."
    ),
    "The contract model and the general conditions": (
        "Le modèle de contrat et les conditions générales"
    ),
    "Shares": "Parts",
    "Shares due (signed, not handed in):": "Parts dues (signés, non remis)\u00a0:",
    "Shares paid (handed in):": "Parts versées (remis)\u00a0:",
    "share due": "part due",
    "Contract documents": "Documents contractuels",
    "Hosting-contract model": "Modèle de contrat d'hébergement",
    "General conditions": "Conditions générales d'hébergement",
    "Written in Markdown. Placeholders filled in for each contract:": (
        "Rédigés en Markdown. Champs remplis pour chaque contrat\u00a0:"
    ),
    "Each save is a new version; a contract keeps the versions it was made and signed on.": (
        "Chaque enregistrement crée une nouvelle version\u00a0; un contrat garde les versions "
        "sur lesquelles il a été établi et signé."
    ),
    "Preview: not saved yet.": "Aperçu\u00a0: pas encore enregistré.",
    "Save a new version": "Enregistrer une nouvelle version",
    "Versions": "Versions",
    "Version": "Version",
    "Not written yet.": "Pas encore rédigé.",
    # The client's pages.
    "Your hosting contract": "Votre contrat d'hébergement",
    "Read the contract and the general conditions below. Then give your details, the "
    "agreed counterpart, and sign. This link works once.": (
        "Lisez le contrat et les conditions générales ci-dessous. Donnez ensuite vos "
        "coordonnées, la contrepartie convenue, et signez. Ce lien ne sert qu'une fois."
    ),
    "Sign": "Signer",
    "Counterpart agreed with your mediator": "Contrepartie convenue avec votre médiateur",
    "An article about your volunteer commitment": "Un article sur votre engagement bénévole",
    "Detail of the counterpart": "Précisions sur la contrepartie",
    "(for an article: its subject)": "(pour un article\u00a0: son sujet)",
    "Type your full name to sign": "Tapez votre nom complet pour signer",
    "I have read and I accept the contract and the general conditions above.": (
        "J'ai lu et j'accepte le contrat et les conditions générales ci-dessus."
    ),
    "Sign the contract": "Signer le contrat",
    "Your signed contract": "Votre contrat signé",
    "Thank you: the contract is signed. Keep this link to read or print your copy later:": (
        "Merci\u00a0: le contrat est signé. Gardez ce lien pour relire ou imprimer votre "
        "exemplaire plus tard\u00a0:"
    ),
    "To print it or save it as PDF, use your browser's Print command.": (
        "Pour l'imprimer ou l'enregistrer en PDF, utilisez la commande Imprimer de votre "
        "navigateur."
    ),
    "This link no longer works": "Ce lien ne fonctionne plus",
    "Nothing was changed.": "Rien n'a été modifié.",
    "Your opinion": "Votre avis",
    "How satisfied are you with the service of": "Êtes-vous satisfait du service de",
    "Your rating and comment go to the section; this link works once.": (
        "Votre note et votre commentaire vont à la section\u00a0; ce lien ne sert qu'une fois."
    ),
    "Rating (1: not satisfied, 5: very satisfied)": (
        "Note (1\u00a0: pas satisfait, 5\u00a0: très satisfait)"
    ),
    "Final comment": "Commentaire final",
    "characters at most": "caractères au plus",
    "Send my opinion": "Envoyer mon avis",
    "Thank you": "Merci",
    "Your opinion was received. It helps the section and its mediators.": (
        "Votre avis a bien été reçu. Il aide la section et ses médiateurs."
    ),
    # The domain's refusals (models/charter).
    "your full name is required": "votre nom complet est obligatoire",
    "your postal address is required": "votre adresse postale est obligatoire",
    "your e-mail address is required": "votre adresse e-mail est obligatoire",
    "your phone number is required": "votre numéro de téléphone est obligatoire",
    "your name typed as signature is required": (
        "votre nom tapé en guise de signature est obligatoire"
    ),
    "your e-mail address: write it as name@example.org": (
        "votre adresse e-mail\u00a0: écrivez-la sous la forme nom@exemple.org"
    ),
    "your phone number: at least 6 digits": "votre numéro de téléphone\u00a0: au moins 6 chiffres",
    "choose the counterpart: money, or an article about your volunteer commitment": (
        "choisissez la contrepartie\u00a0: de l'argent, ou un article sur votre engagement bénévole"
    ),
    "say what the article will be about (the counterpart's detail)": (
        "dites sur quoi portera l'article (précisions sur la contrepartie)"
    ),
    "type your full name exactly as above to sign": (
        "tapez votre nom complet exactement comme ci-dessus pour signer"
    ),
    "tick the box to say you accept the contract and the conditions": (
        "cochez la case pour dire que vous acceptez le contrat et les conditions"
    ),
    "this link is not valid (replaced or unknown): ask your mediator for a new one": (
        "ce lien n'est pas valable (remplacé ou inconnu)\u00a0: demandez-en un nouveau à "
        "votre médiateur"
    ),
    "this contract was already signed with this link, or cancelled: the link works only "
    "once. Your copy is at the read-only link you were given after signing.": (
        "ce contrat a déjà été signé avec ce lien, ou a été annulé\u00a0: le lien ne sert "
        "qu'une fois. Votre exemplaire est au lien de lecture donné après la signature."
    ),
    "this link is older than 30 days: ask your mediator for a new one": (
        "ce lien a plus de 30 jours\u00a0: demandez-en un nouveau à votre médiateur"
    ),
    "no contract at this link": "aucun contrat à ce lien",
    "this link is not valid (replaced or unknown)": (
        "ce lien n'est pas valable (remplacé ou inconnu)"
    ),
    "your rating was already received with this link: thank you": (
        "votre note a déjà été reçue avec ce lien\u00a0: merci"
    ),
    "this link is older than 60 days": "ce lien a plus de 60 jours",
    "choose a rating from 1 to 5": "choisissez une note de 1 à 5",
    "the comment contains a control character": "le commentaire contient un caractère de contrôle",
    "the client's name is required": "le nom du client est obligatoire",
    "the service is required": "le service est obligatoire",
    "the duration is required": "la durée est obligatoire",
    "the start date must be written YYYY-MM-DD": "la date de début s'écrit AAAA-MM-JJ",
    "the end date must be written YYYY-MM-DD": "la date de fin s'écrit AAAA-MM-JJ",
    "the contract must end on or after the day it starts": (
        "le contrat doit se terminer le jour où il commence ou après"
    ),
    "the section's share cannot be more than the price": (
        "la part de la section ne peut pas dépasser le prix"
    ),
    "the document is empty: write its text in Markdown": (
        "le document est vide\u00a0: rédigez son texte en Markdown"
    ),
    "the client has already given their rating for this contract": (
        "le client a déjà donné sa note pour ce contrat"
    ),
    "only the mediator themselves may choose to show their rating": (
        "seul le médiateur lui-même peut choisir d'afficher sa note"
    ),
    "contracts are made by mediators: open a mediator's pages": (
        "les contrats sont établis par les médiateurs\u00a0: ouvrez les pages d'un médiateur"
    ),
    "no such contract among this mediator's": "aucun contrat de ce type chez ce médiateur",
    # Sums (models/charter/money.py), for each field.
    "the price": "le prix",
    "the price: write an amount and an optional currency, e.g. 25 EUR": (
        "le prix\u00a0: écrivez un montant et une monnaie facultative, par ex. 25 EUR"
    ),
    "the price: between 0 and 1,000,000,000": (
        "le prix\u00a0: entre 0 et 1\u00a0000\u00a0000\u00a0000"
    ),
    "the price: too many decimals for this currency (nothing is rounded)": (
        "le prix\u00a0: trop de décimales pour cette monnaie (rien n'est arrondi)"
    ),
    "the section's share": "la part de la section",
    "the section's share: write an amount and an optional currency, e.g. 25 EUR": (
        "la part de la section\u00a0: écrivez un montant et une monnaie facultative, par ex. 25 EUR"
    ),
    "the section's share: between 0 and 1,000,000,000": (
        "la part de la section\u00a0: entre 0 et 1\u00a0000\u00a0000\u00a0000"
    ),
    "the section's share: too many decimals for this currency (nothing is rounded)": (
        "la part de la section\u00a0: trop de décimales pour cette monnaie (rien n'est arrondi)"
    ),
    "the share paid": "la part versée",
    "the share paid: write an amount and an optional currency, e.g. 25 EUR": (
        "la part versée\u00a0: écrivez un montant et une monnaie facultative, par ex. 25 EUR"
    ),
    "the share paid: between 0 and 1,000,000,000": (
        "la part versée\u00a0: entre 0 et 1\u00a0000\u00a0000\u00a0000"
    ),
    "the share paid: too many decimals for this currency (nothing is rounded)": (
        "la part versée\u00a0: trop de décimales pour cette monnaie (rien n'est arrondi)"
    ),
    "the hosting-contract model has not been written yet: a coordinator writes it first "
    "(Contracts > the contract model, or 'coopnet contract model set')": (
        "le modèle de contrat d'hébergement n'est pas encore rédigé\u00a0: un coordinateur le "
        "rédige d'abord (Contrats > le modèle de contrat, ou « coopnet contract model set »)"
    ),
    "the general conditions have not been written yet: a coordinator writes them first "
    "(Contracts > the contract model, or 'coopnet contract model set')": (
        "les conditions générales ne sont pas encore rédigées\u00a0: un coordinateur les "
        "rédige d'abord (Contrats > le modèle de contrat, ou « coopnet contract model set »)"
    ),
    # The mediator's public page.
    "Client satisfaction:": "Satisfaction des clients\u00a0:",
    "Recent comments": "Commentaires récents",
}
