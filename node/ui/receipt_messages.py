"""French for the receipt pages (message ids are the English text).

The refusals of models/charter/receipts.py that a page shows as they are
(those without a value typed in them) are here too.
"""

from __future__ import annotations

FR: dict[str, str] = {
    "no contract of this mediator has that reference": (
        "aucun contrat de ce médiateur ne porte cette référence"
    ),
    "this contract is not signed: a receipt names a signed contract": (
        "ce contrat n'est pas signé : un reçu mentionne un contrat signé"
    ),
    # Public receipt page.
    "Receipt": "Reçu",
    "Cancelled by receipt": "Annulé par le reçu",
    "This receipt cancels receipt": "Ce reçu annule le reçu",
    "Valid: this node holds this receipt and it has not been cancelled.": (
        "Valide : ce nœud détient ce reçu et il n'a pas été annulé."
    ),
    "Amount received": "Somme reçue",
    "Received from": "Reçu de",
    "For": "Pour",
    "Received on": "Reçu le",
    "Payment method": "Moyen de paiement",
    "Received by": "Reçu par",
    "mediator of": "médiateur de",
    "Contract": "Contrat",
    "Date of issue": "Date d'émission",
    "Check this receipt at:": "Vérifier ce reçu à l'adresse :",
    "Signed by the section's node (Ed25519). Scan the code or open the address: the page "
    "shows the node's own record.": (
        "Signé par le nœud de la section (Ed25519). Scannez le code ou ouvrez l'adresse : "
        "la page montre l'enregistrement du nœud lui-même."
    ),
    "To check it from a computer:": "Pour le vérifier depuis un ordinateur :",
    "QR code of this receipt's verification address": (
        "Code QR de l'adresse de vérification de ce reçu"
    ),
    # Payment methods.
    "Cash": "Espèces",
    "Bank transfer": "Virement",
    "Mobile money": "Mobile money",
    "Cheque": "Chèque",
    "Other means": "Autre moyen",
    # Mediator pages.
    "Receipts": "Reçus",
    "Receipt issued:": "Reçu émis :",
    "open it to print it or to give its address": (
        "ouvrez-le pour l'imprimer ou en donner l'adresse"
    ),
    "Receipt cancelled; the cancelling receipt is": "Reçu annulé ; le reçu d'annulation est le",
    "Issue a receipt": "Émettre un reçu",
    "One receipt for every sum received. It is numbered, signed by the section's node and "
    "cannot be changed afterwards; a mistake is corrected by cancelling it.": (
        "Un reçu pour chaque somme reçue. Il est numéroté, signé par le nœud de la section "
        "et ne peut plus être modifié ensuite ; une erreur se corrige en l'annulant."
    ),
    "Received from (name)": "Reçu de (nom)",
    "Payer's contact": "Coordonnées du payeur",
    "(optional: address, phone or e-mail)": "(facultatif : adresse, téléphone ou courriel)",
    "Amount": "Montant",
    "(e.g. 120 EUR, 120,50 € or 5000 XOF)": "(par ex. 120 EUR, 120,50 € ou 5000 XOF)",
    "(what the sum pays for)": "(ce que la somme paie)",
    "(optional: the contract's id)": "(facultatif : l'identifiant du contrat)",
    "Issue the receipt": "Émettre le reçu",
    "Receipts issued": "Reçus émis",
    "Cancelled by": "Annulé par",
    "Cancels": "Annule",
    "Valid": "Valide",
    "Cancel this receipt": "Annuler ce reçu",
    "No receipts yet.": "Aucun reçu pour l'instant.",
    "Cancel a receipt": "Annuler un reçu",
    "A receipt is never changed: cancelling issues a new receipt, with the next number, that "
    "cancels this one. Both stay in the books. It cannot be undone: issue a new receipt for "
    "the right sum afterwards.": (
        "Un reçu n'est jamais modifié : l'annuler émet un nouveau reçu, au numéro suivant, "
        "qui annule celui-ci. Les deux restent dans les comptes. C'est définitif : émettez "
        "ensuite un nouveau reçu pour la bonne somme."
    ),
    "Reason": "Motif",
    "Yes, cancel this receipt": "Oui, annuler ce reçu",
    "No, keep this receipt": "Non, garder ce reçu",
    # Coordinator page.
    "Year": "Année",
    "Show": "Afficher",
    "Download as CSV (spreadsheet)": "Télécharger en CSV (tableur)",
    "Totals received": "Totaux reçus",
    "Cancelled receipts and the receipts that cancel them are not counted.": (
        "Les reçus annulés et les reçus qui les annulent ne sont pas comptés."
    ),
    "Total": "Total",
    "No standing receipt this year.": "Aucun reçu valide cette année.",
    "Every receipt": "Tous les reçus",
    "Cancel": "Annuler",
    "Only the latest receipts are shown here; the CSV holds them all.": (
        "Seuls les derniers reçus sont affichés ici ; le CSV les contient tous."
    ),
    # Refusals shown as they are.
    "the amount must be positive: a receipt records a sum received": (
        "le montant doit être positif : un reçu enregistre une somme reçue"
    ),
    "the amount must be more than zero": "le montant doit être supérieur à zéro",
    "the amount is required, e.g. '120 EUR' or '120,50 €'": (
        "le montant est obligatoire, par ex. « 120 EUR » ou « 120,50 € »"
    ),
    "the amount is too long: write it as '120 EUR' or '120,50 €'": (
        "le montant est trop long : écrivez-le « 120 EUR » ou « 120,50 € »"
    ),
    "the date received is in the future: a receipt is written once paid": (
        "la date de réception est dans le futur : un reçu s'écrit une fois payé"
    ),
    "the date received is more than a year ago: check the year": (
        "la date de réception remonte à plus d'un an : vérifiez l'année"
    ),
    "the payer's name is required": "le nom du payeur est obligatoire",
    "the purpose is required": "l'objet du paiement est obligatoire",
    "the reason is required": "le motif est obligatoire",
    "the contract reference must be a contract's id (letters, digits, '-')": (
        "la référence du contrat doit être l'identifiant d'un contrat (lettres, chiffres, « - »)"
    ),
    "no such receipt": "reçu introuvable",
    "no such receipt among this mediator's": "ce reçu n'est pas parmi ceux de ce médiateur",
}
