"""French for the coordinator's pages (message ids are the English text).

Ids the shared catalogue already holds (Bulletins, Followers, since…) are
not repeated; a no-break space (\u00a0) keeps ':' and ';' on the line of
the word before them, as French typography wants. ``EN`` gives English
words to the few ids that are codes (a state shown through
``_("follow-" ~ state)``).
"""

from __future__ import annotations

FR: dict[str, str] = {
    # Navigation and the overview.
    "Coordination": "Coordination",
    "Overview": "Vue d'ensemble",
    "Accounts": "Comptes",
    "Certifications": "Certifications",
    "Follows": "Abonnements",
    "Deliveries": "Envois",
    "Settings": "Réglages",
    "Back to your page": "Retour à votre page",
    "Deliveries that died": "Envois abandonnés",
    "Deliveries that died: {n}": "Envois abandonnés\u00a0: {n}",
    "Some servers did not get what the node sent. See why, then queue them again.": (
        "Des serveurs n'ont pas reçu ce que le nœud a envoyé. Voyez pourquoi, puis relancez-les."
    ),
    "invite people, new links, disable": "inviter, nouveaux liens, désactiver",
    "write, preview, publish": "rédiger, prévisualiser, publier",
    "authorise sections": "autoriser des sections",
    "certify mediators": "certifier des médiateurs",
    "followers": "abonnés",
    "followed": "suivis",
    "waiting": "en attente",
    "dead": "abandonnés",
    # Accounts.
    "Invite someone": "Inviter quelqu'un",
    "Lower-case letters, digits, '.', '_' or '-': the login.": (
        "Lettres minuscules, chiffres, « . », « _ » ou « - »\u00a0: l'identifiant de connexion."
    ),
    "Name shown": "Nom affiché",
    "Roles (at least one)": "Rôles (au moins un)",
    "Mediator profile": "Profil de médiateur",
    "SEL account": "Compte SEL",
    "— none —": "— aucun —",
    "Create the account and its link": "Créer le compte et son lien",
    "No mediator profile yet: a mediator's account is linked to one.": (
        "Aucun profil de médiateur pour l'instant\u00a0: le compte d'un médiateur "
        "est lié à un profil."
    ),
    "No SEL member account yet: a member's account is linked to one.": (
        "Aucun compte SEL de membre pour l'instant\u00a0: le compte d'un membre "
        "est lié à l'un d'eux."
    ),
    "All accounts": "Tous les comptes",
    "No accounts yet.": "Aucun compte pour l'instant.",
    "New link": "Nouveau lien",
    "New link for": "Nouveau lien pour",
    "Enable": "Réactiver",
    "Disable": "Désactiver",
    "Account created:": "Compte créé\u00a0:",
    "Give this link to its holder; it is shown only once, works once, for 7 days:": (
        "Donnez ce lien à la personne\u00a0; il n'est affiché qu'une fois et sert une seule fois, "
        "pendant 7 jours\u00a0:"
    ),
    "Earlier links of this account stop working; its password works until a new one is chosen.": (
        "Les liens précédents de ce compte ne marchent plus\u00a0; son mot de passe reste valable "
        "jusqu'au choix d'un nouveau."
    ),
    "Previous page": "Page précédente",
    "Next page": "Page suivante",
    "Roles": "Rôles",
    "Account state": "État du compte",
    "Access": "Accès",
    "Make a new link": "Faire un nouveau lien",
    "For a forgotten password, or an invitation that ran out: a new one-time link, valid 7 days.": (
        "Pour un mot de passe oublié, ou une invitation expirée\u00a0: un nouveau lien à usage "
        "unique, valable 7 jours."
    ),
    "active": "actif",
    "disabled": "désactivé",
    "invited (no password yet)": "invité (pas encore de mot de passe)",
    # Bulletins.
    "Write a bulletin": "Rédiger un bulletin",
    "Title": "Titre",
    "Summary": "Résumé",
    "Summary (optional)": "Résumé (facultatif)",
    "What Mastodon shows; left empty, the first paragraph.": (
        "Ce que Mastodon affiche\u00a0; vide, le premier paragraphe."
    ),
    "Text (Markdown)": "Texte (Markdown)",
    "Markdown: **bold**, *italic*, ## heading, - list, [link](https://…). HTML is not kept.": (
        "Markdown\u00a0: **gras**, *italique*, ## intertitre, - liste, [lien](https://…). "
        "Le HTML n'est pas conservé."
    ),
    "Preview": "Prévisualiser",
    "Preview: not published yet.": "Aperçu\u00a0: pas encore publié.",
    "Publish": "Publier",
    "Published bulletins": "Bulletins publiés",
    "Edit or delete": "Modifier ou supprimer",
    "Edit a bulletin": "Modifier un bulletin",
    "Publish the changes": "Publier les modifications",
    "Delete": "Supprimer",
    "Delete the bulletin": "Supprimer le bulletin",
    "Yes, delete this bulletin (followers are told; it cannot be undone)": (
        "Oui, supprimer ce bulletin (les abonnés sont prévenus\u00a0; c'est définitif)"
    ),
    # Certifications.
    "A certified mediator shows the section's signed certification on their profile; "
    "revoking it is announced to followers.": (
        "Un médiateur certifié montre sur son profil la certification signée de la section\u00a0; "
        "sa révocation est annoncée aux abonnés."
    ),
    "Certify": "Certifier",
    "Revoke": "Révoquer",
    "Revoke the certification": "Révoquer la certification",
    "attestation": "attestation",
    "Mediator profiles are added and removed on the server for now: coopnet mediator add "
    "NAME, coopnet mediator remove NAME.": (
        "Pour l'instant, les profils de médiateurs s'ajoutent et se retirent sur le serveur\u00a0: "
        "coopnet mediator add NOM, coopnet mediator remove NOM."
    ),
    "The seat authorises sections to certify their mediators. Each authorisation is signed, "
    "announced to the section and its followers, and can be revoked.": (
        "Le siège autorise les sections à certifier leurs médiateurs. Chaque autorisation est "
        "signée, annoncée à la section et à ses abonnés, et peut être révoquée."
    ),
    "Authorise a section": "Autoriser une section",
    "Section (name@host)": "Section (nom@hôte)",
    "Authorise": "Autoriser",
    "Authorised sections": "Sections autorisées",
    "No section authorised yet.": "Aucune section autorisée pour l'instant.",
    # Follows.
    "Followers and following": "Abonnés et abonnements",
    "The section's account:": "Le compte de la section\u00a0:",
    "Follow a node or an account": "Suivre un nœud ou un compte",
    "Account or node to follow": "Compte ou nœud à suivre",
    "name@host, or the address of its profile (https://…).": (
        "nom@hôte, ou l'adresse de son profil (https://…)."
    ),
    "Follow": "Suivre",
    "The node follows no one yet.": "Le nœud ne suit personne pour l'instant.",
    "No followers yet.": "Aucun abonné pour l'instant.",
    "Only the latest ones are shown; 'coopnet following' lists them all.": (
        "Seuls les plus récents sont affichés\u00a0; « coopnet following » les liste tous."
    ),
    "Only the latest ones are shown; 'coopnet followers' lists them all.": (
        "Seuls les plus récents sont affichés\u00a0; « coopnet followers » les liste tous."
    ),
    "follow-pending": "en attente de réponse",
    "follow-accepted": "acceptée",
    "follow-rejected": "refusée",
    # Deliveries.
    "Everything the node publishes is sent to each follower's server; a delivery dies when a "
    "server refuses it for good or stays unreachable for too long.": (
        "Tout ce que publie le nœud est envoyé au serveur de chaque abonné\u00a0; un envoi est "
        "abandonné quand un serveur le refuse définitivement ou reste injoignable trop longtemps."
    ),
    "delivery-pending": "en attente",
    "delivery-delivered": "remis",
    "delivery-dead": "abandonnés",
    "Queue every dead delivery again": "Relancer tous les envois abandonnés",
    "tries": "essais",
    "last answer": "dernière réponse",
    "last error": "dernière erreur",
    "None: every server took what it was sent, or is still being tried.": (
        "Aucun\u00a0: chaque serveur a reçu ce qui lui a été envoyé, ou l'envoi est encore tenté."
    ),
    "Only the latest ones are shown; 'coopnet deliveries --state dead' lists them all.": (
        "Seuls les plus récents sont affichés\u00a0; « coopnet deliveries --state dead » "
        "les liste tous."
    ),
    "Waiting to be sent": "En attente d'envoi",
    # Settings.
    "These are read from coopnet.toml when the node starts. To change one, edit that file on "
    "the server and restart coopnet serve: several processes may serve the node, and each "
    "reads the file once.": (
        "Ces réglages sont lus dans coopnet.toml au démarrage du nœud. Pour en changer un, "
        "modifiez ce fichier sur le serveur et redémarrez coopnet serve\u00a0: plusieurs processus "
        "peuvent servir le nœud, et chacun ne lit le fichier qu'une fois."
    ),
    "Address": "Adresse",
    "Role": "Rôle",
    "Seat of the network": "Siège du réseau",
    "this node": "ce nœud",
    "not set: no authorisation from the seat can be checked": (
        "non défini\u00a0: aucune autorisation du siège ne peut être vérifiée"
    ),
    "Database": "Base de données",
    "Data directory": "Répertoire des données",
    "Default SEL limits of a new account": "Limites SEL par défaut d'un nouveau compte",
    "Deliveries given up after": "Envois abandonnés après",
    # Notices after a change.
    "Account disabled; its sessions ended.": "Compte désactivé\u00a0; ses sessions sont fermées.",
    "Account enabled again.": "Compte réactivé.",
    "Every session of the account ended.": "Toutes les sessions du compte sont fermées.",
    "Bulletin published; followers receive it.": "Bulletin publié\u00a0; les abonnés le reçoivent.",
    "Bulletin updated; followers receive the new version.": (
        "Bulletin modifié\u00a0; les abonnés reçoivent la nouvelle version."
    ),
    "Bulletin deleted; followers are told.": "Bulletin supprimé\u00a0; les abonnés sont prévenus.",
    "Mediator certified; the certification is announced.": (
        "Médiateur certifié\u00a0; la certification est annoncée."
    ),
    "Revoked; the revocation is announced.": "Révoqué\u00a0; la révocation est annoncée.",
    "Section authorised; it is told.": "Section autorisée\u00a0; elle en est informée.",
    "Follow request sent; it shows as accepted once the other side answers.": (
        "Demande d'abonnement envoyée\u00a0; elle apparaît acceptée dès que l'autre côté répond."
    ),
    "Dead deliveries queued again.": "Envois abandonnés relancés.",
    # Form refusals ({field} is a translated label).
    "{field}: expected text, not a file": "{field}\u00a0: du texte est attendu, pas un fichier",
    "{field}: a single line is expected": "{field}\u00a0: une seule ligne est attendue",
    "{field}: at most {limit} characters": "{field}\u00a0: {limit} caractères au plus",
    "{field}: contains a control character": "{field}\u00a0: contient un caractère de contrôle",
    "{field}: this field is required": "{field}\u00a0: ce champ est obligatoire",
    "{field}: not one of the choices offered": (
        "{field}\u00a0: ne fait pas partie des choix proposés"
    ),
    "tick the box to confirm the deletion": "cochez la case pour confirmer la suppression",
    "tick the box to confirm the revocation": "cochez la case pour confirmer la révocation",
    "confirm": "confirmer",
    "Action": "Action",
    "Attestation": "Attestation",
    "Mediator": "Médiateur",
    "Confirmation": "Confirmation",
    # Refusals of the actions, shown as they are.
    "only a coordinator of this section may do this": (
        "seule la coordination de cette section peut faire cela"
    ),
    "give the account at least one role": "donnez au moins un rôle au compte",
    "you cannot disable your own account": "vous ne pouvez pas désactiver votre propre compte",
    "a bulletin needs a title": "un bulletin a besoin d'un titre",
    "the bulletin's text is empty": "le texte du bulletin est vide",
    "this bulletin was deleted": "ce bulletin a été supprimé",
    "this bulletin was already deleted": "ce bulletin a déjà été supprimé",
    "a node cannot follow itself": "un nœud ne peut pas se suivre lui-même",
    "only the seat authorises sections; this node is a section": (
        "seul le siège autorise des sections\u00a0; ce nœud est une section"
    ),
    "only a section certifies mediators; this node is the seat": (
        "seule une section certifie des médiateurs\u00a0; ce nœud est le siège"
    ),
}

EN: dict[str, str] = {
    "follow-pending": "waiting for an answer",
    "follow-accepted": "accepted",
    "follow-rejected": "refused",
    "delivery-pending": "waiting",
    "delivery-delivered": "delivered",
    "delivery-dead": "dead",
}
