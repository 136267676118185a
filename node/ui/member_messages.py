"""French for the member's pages (message ids are the English text)."""

from __future__ import annotations

FR: dict[str, str] = {
    "My time account": "Mon compte temps",
    "Balance": "Solde",
    "reserved": "réservé",
    "Limits": "Limites",
    "To confirm": "À confirmer",
    "Confirm": "Confirmer",
    "Reject": "Refuser",
    "Reason": "Motif",
    "Reason (optional)": "Motif (facultatif)",
    "Nothing to confirm.": "Rien à confirmer.",
    "Waiting for the other member": "En attente de l'autre membre",
    "Withdraw": "Retirer",
    "Record an exchange": "Enregistrer un échange",
    "The service": "Le service",
    "I received it (I pay)": "Je l'ai reçu (je paie)",
    "I gave it (I am paid)": "Je l'ai rendu (je suis payé·e)",
    "With": "Avec",
    "Choose a member": "Choisissez un membre",
    "Members of this section": "Membres de cette section",
    "A member of another section": "Un membre d'une autre section",
    "Their account at that section (only for another section)": (
        "Son compte dans cette section (seulement pour une autre section)"
    ),
    "Duration (1.5, 1h30 or 90m)": "Durée (1,5, 1h30 ou 90m)",
    "What was done": "Ce qui a été fait",
    "Category": "Catégorie",
    "Record": "Enregistrer",
    "History": "Historique",
    "Export as CSV": "Exporter en CSV",
    "State": "État",
    "No exchanges yet.": "Aucun échange pour l'instant.",
    "Exchange recorded.": "Échange enregistré.",
    "Done.": "C'est fait.",
    "My spaces": "Mes espaces",
    "from": "de la part de",
    "with": "avec",
    "answer before": "à confirmer avant le",
    "state:awaiting": "à confirmer",
    "to confirm": "à confirmer",
    "Mediators' pages": "Pages des médiateurs",
    "sel:help": "entraide",
    "sel:hosting": "hébergement",
    "sel:training": "formation",
    "sel:website": "site web",
    "sel:telework": "télétravail",
    "sel:repair": "réparation",
    "sel:care": "soin",
    "sel:transport": "transport",
    "sel:food": "alimentation",
    "sel:other": "autre",
    "state:pending": "en attente",
    "state:confirmed": "confirmé",
    "state:rejected": "refusé",
    "state:cancelled": "annulé",
    "state:held": "en cours",
    "state:settled": "réglé",
    "state:expired": "expiré",
    "state:committed": "réglé",
    "state:refused": "refusé",
    # Refusals members meet on this page.
    "this page is for members of the section's time bank": (
        "cette page est réservée aux membres de la banque de temps de la section"
    ),
    "you may act only on your own SEL account": (
        "vous ne pouvez agir que sur votre propre compte SEL"
    ),
    "choose who the exchange was with": "choisissez avec qui l'échange a eu lieu",
    "say whether you received or gave the service": (
        "indiquez si vous avez reçu ou rendu le service"
    ),
    "give the account of the member at the other section": (
        "indiquez le compte du membre dans l'autre section"
    ),
    "with another section, the member who received the service records it": (
        "avec une autre section, c'est le membre qui a reçu le service qui l'enregistre"
    ),
    "describe the service exchanged": "décrivez le service échangé",
    "a member cannot exchange with themselves": "on ne peut pas échanger avec soi-même",
}

#: English labels for ids that are not plain English.
EN: dict[str, str] = {
    **{
        f"sel:{c}": c
        for c in (
            "help",
            "hosting",
            "training",
            "website",
            "telework",
            "repair",
            "care",
            "transport",
            "food",
            "other",
        )
    },
    **{
        f"state:{s}": s
        for s in (
            "pending",
            "confirmed",
            "rejected",
            "cancelled",
            "held",
            "settled",
            "expired",
            "committed",
            "refused",
            "awaiting",
        )
    },
}
