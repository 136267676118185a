"""French for the coordinator's pages (message ids are the English text).

Ids the shared catalogue already holds (Bulletins, Followers, since…) are
not repeated; a no-break space (\u00a0) keeps ':' and ';' on the line of
the word before them, as French typography wants. ``EN`` gives English
words to the few ids that are codes (a state shown through
``_("follow-" ~ state)``).
"""

from __future__ import annotations

FR: dict[str, str] = {
    # Blocked domains (/admin/federation).
    "Blocked domains": "Domaines bloqués",
    "Nothing comes from a blocked domain, nothing goes to it; what came from it is hidden.": (
        "Rien ne vient d'un domaine bloqué, rien n'y va ; ce qui en venait est masqué."
    ),
    "Lift the block": "Lever le blocage",
    "No domain is blocked.": "Aucun domaine n'est bloqué.",
    "Block a domain": "Bloquer un domaine",
    "Domain": "Domaine",
    "A domain covers its subdomains; host:port covers that port only.": (
        "Un domaine couvre ses sous-domaines ; hôte:port ne couvre que ce port."
    ),
    "Block": "Bloquer",
    "Domain blocked: nothing comes from it or goes to it any more.": (
        "Domaine bloqué : plus rien n'en vient ni n'y va."
    ),
    "Block lifted.": "Blocage levé.",
    "give the reason for the block (it is kept with it)": (
        "donnez la raison du blocage (elle est gardée avec lui)"
    ),
    # Hostings bought (/admin/hostings).
    "Hostings": "Hébergements",
    "Hostings bought": "Hébergements achetés",
    "The charter asks each mediator to buy one hosting a month from the section, six a semester.": (
        "La charte demande à chaque médiateur d'acheter un hébergement par mois à la section, "
        "six par semestre."
    ),
    "Per mediator": "Par médiateur",
    "Hostings bought per month": "Hébergements achetés par mois",
    "Total": "Total",
    "behind": "en retard",
    "In red: a month that ended without a hosting. 'Behind': fewer hostings than months begun.": (
        "En rouge : un mois terminé sans hébergement. « En retard » : moins d'hébergements "
        "que de mois commencés."
    ),
    "Record a hosting": "Enregistrer un hébergement",
    "What was bought": "Ce qui a été acheté",
    "The client's site, a domain, a mailbox…": "Le site d'un client, un domaine, une messagerie…",
    "Date of purchase": "Date d'achat",
    "Price paid": "Prix payé",
    "Record": "Enregistrer",
    "Purchases": "Achats",
    "Cancelled:": "Annulé :",
    "Cancel this purchase": "Annuler cet achat",
    "Cancel it": "L'annuler",
    "No hosting recorded this semester.": "Aucun hébergement enregistré ce semestre.",
    "Only the latest ones are shown; 'coopnet hosting list' lists them all.": (
        "Seuls les plus récents sont affichés ; « coopnet hosting list » les liste tous."
    ),
    "Hosting recorded; it counts for the mediator's month.": (
        "Hébergement enregistré ; il compte pour le mois du médiateur."
    ),
    "Purchase cancelled; it stays listed but no longer counts.": (
        "Achat annulé ; il reste listé mais ne compte plus."
    ),
    "a hosting cannot be bought in the future: check the date": (
        "un hébergement ne peut pas être acheté dans le futur : vérifiez la date"
    ),
    "that date is too far in the past: check the date": (
        "cette date est trop ancienne : vérifiez la date"
    ),
    "say what was bought (the client's site, a domain…)": (
        "dites ce qui a été acheté (le site d'un client, un domaine…)"
    ),
    "give the reason for the cancellation": "donnez la raison de l'annulation",
    "{field}: write the date as YYYY-MM-DD": "{field} : écrivez la date sous la forme AAAA-MM-JJ",
    # E-mail of password links ([mail]).
    "E-mail address": "Adresse e-mail",
    "optional": "facultatif",
    "The link is also mailed to this address.": "Le lien est aussi envoyé à cette adresse.",
    "This node sends no mail ([mail] in config.toml): give the link by hand.": (
        "Ce nœud n'envoie pas de courriel ([mail] dans config.toml) : donnez le lien vous-même."
    ),
    "The link was also mailed to": "Le lien a aussi été envoyé à",
    "The link could not be mailed: give it by hand.": (
        "Le lien n'a pas pu être envoyé : donnez-le vous-même."
    ),
    "Where password links are mailed (empty: none)": (
        "Où envoyer les liens de mot de passe (vide : nulle part)"
    ),
    "Save the address": "Enregistrer l'adresse",
    "It is also mailed to the address above.": "Il est aussi envoyé à l'adresse ci-dessus.",
    "E-mail address saved.": "Adresse e-mail enregistrée.",
    "this is not an e-mail address: write it as name@example.org": (
        "ce n'est pas une adresse e-mail : écrivez-la sous la forme nom@exemple.org"
    ),
    "an e-mail address cannot hold control characters": (
        "une adresse e-mail ne peut pas contenir de caractères de contrôle"
    ),
    # Navigation and the overview.
    "Coordination": "Coordination",
    "Overview": "Vue d'ensemble",
    # The menu's groups (node/ui/nav.py).
    "Charter": "Charte",
    "Network": "Réseau",
    "Accounts": "Comptes",
    "Certifications": "Certifications",
    "Follows": "Abonnements",
    "Deliveries": "Envois",
    "Settings": "Réglages",
    "Offers and replies": "Offres et réponses",
    "SEL": "SEL",
    "Time bank (SEL)": "Banque de temps (SEL)",
    "accounts, peer sections, check, export": "comptes, sections pairs, vérification, export",
    "to approve: {n}": "à approuver\u00a0: {n}",
    "add, remove": "ajouter, retirer",
    "Post a note": "Publier une note",
    "Note": "Note",
    "Plain text, public: sent by the section's account {handle} to its followers (Mastodon "
    "and others); links are kept.": (
        "Texte simple, public\u00a0: envoyé par le compte de la section {handle} à ses abonnés "
        "(Mastodon et autres)\u00a0; les liens sont conservés."
    ),
    "Post": "Publier",
    "The section's public page": "La page publique de la section",
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
    "Save the roles": "Enregistrer les rôles",
    "Check a certification chain": "Vérifier une chaîne de certification",
    "Chain verified": "Chaîne vérifiée",
    "Check": "Vérifier",
    "Chain not verified": "Chaîne non vérifiée",
    "Account or address": "Compte ou adresse",
    "Account or address (name@host or URL)": "Compte ou adresse (nom@hôte ou URL)",
    "Saving ends this person's sessions: they log in again with the new rights.": (
        "Enregistrer met fin aux sessions de cette personne\u00a0: elle se reconnecte "
        "avec ses nouveaux droits."
    ),
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
    "Add or remove mediators": "Ajouter ou retirer des médiateurs",
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
    # Mediators.
    "Each mediator has a public profile and account on the fediverse, publishes offers and "
    "answers replies. Certify them on the Certifications page; give someone a login for them "
    "on the Accounts page.": (
        "Chaque médiateur a un profil public et un compte sur le fédivers, publie des offres et "
        "répond aux messages. Certifiez-le sur la page Certifications\u00a0; donnez à quelqu'un "
        "un identifiant pour lui sur la page Comptes."
    ),
    "The section's mediators": "Les médiateurs de la section",
    "Public page": "Page publique",
    "Edit the profile": "Modifier le profil",
    "Remove a mediator": "Retirer un médiateur",
    "confirm: followers are told, the offers end, a certification is revoked": (
        "confirmer\u00a0: les abonnés sont prévenus, les offres prennent fin, une "
        "certification est révoquée"
    ),
    "Remove the mediator": "Retirer le médiateur",
    "Only the first ones are shown; 'coopnet mediator list' lists them all.": (
        "Seuls les premiers sont affichés\u00a0; « coopnet mediator list » les liste tous."
    ),
    "Add a mediator": "Ajouter un médiateur",
    "User name": "Nom d'utilisateur",
    "1 to 30 lower-case letters, digits or '_': the fediverse account @name@{host}; it cannot "
    "change later.": (
        "1 à 30 lettres minuscules, chiffres ou «\u00a0_\u00a0»\u00a0: le compte fédivers "
        "@nom@{host}\u00a0; il ne pourra plus changer."
    ),
    "Presentation": "Présentation",
    "Add the mediator": "Ajouter le médiateur",
    # The time bank (SEL).
    "Ledger check": "Vérification du journal",
    "Entries checked: {n}. The ledger is sound: chain intact, balances derived again, sum zero.": (
        "Écritures vérifiées\u00a0: {n}. Le journal est sain\u00a0: chaîne intacte, soldes "
        "recalculés, somme nulle."
    ),
    "Entries checked: {n}. Problems found: {p}.": (
        "Écritures vérifiées\u00a0: {n}. Problèmes trouvés\u00a0: {p}."
    ),
    "Only the first ones are shown; 'coopnet sel verify' lists them all.": (
        "Seuls les premiers sont affichés\u00a0; « coopnet sel verify » les liste tous."
    ),
    "Reconciliation with": "Rapprochement avec",
    "In agreement: both sections record the same exchanges and opposite balances.": (
        "En accord\u00a0: les deux sections enregistrent les mêmes échanges et des soldes opposés."
    ),
    "Settling: exchanges are still on their way; check again in a moment.": (
        "Règlement en cours\u00a0: des échanges sont encore en route\u00a0; vérifiez de nouveau "
        "dans un instant."
    ),
    "Disagreement: the two sections' records differ.": (
        "Désaccord\u00a0: les enregistrements des deux sections diffèrent."
    ),
    "Clearing balance here": "Solde de compensation ici",
    "at the peer": "chez la section pair",
    "In flight": "En route",
    "Differences": "Différences",
    "Only the first ones are shown; 'coopnet sel reconcile' lists them all.": (
        "Seuls les premiers sont affichés\u00a0; « coopnet sel reconcile » les liste tous."
    ),
    "Member accounts: {n}, open: {o}.": "Comptes de membres\u00a0: {n}, ouverts\u00a0: {o}.",
    "Every account; open one": "Tous les comptes\u00a0; en ouvrir un",
    "Members' balances": "Soldes des membres",
    "Peer sections' balances": "Soldes des sections pairs",
    "Sum of all balances": "Somme de tous les soldes",
    "zero, as it must be": "nulle, comme il se doit",
    "Waiting for approval": "En attente d'approbation",
    "Approve": "Approuver",
    "Peer sections": "Sections pairs",
    "Members of a peer section and ours pay each other; the clearing balance is what our "
    "members spent there minus what theirs spent here, kept between the two limits.": (
        "Les membres d'une section pair et les nôtres se paient mutuellement\u00a0; le solde de "
        "compensation est ce que nos membres y ont dépensé moins ce que les siens ont dépensé "
        "ici, maintenu entre les deux limites."
    ),
    "Clearing balance": "Solde de compensation",
    "their members may spend here": "ses membres peuvent dépenser ici",
    "ours there": "les nôtres là-bas",
    "No peer section yet.": "Aucune section pair pour l'instant.",
    "Only the first ones are shown; 'coopnet sel balances' lists them all.": (
        "Seuls les premiers sont affichés\u00a0; « coopnet sel balances » les liste tous."
    ),
    "Reconcile with a peer": "Rapprocher avec une section pair",
    "Peer section": "Section pair",
    "Asks the peer for its records of our exchanges and compares them with ours.": (
        "Demande à la section pair ses enregistrements de nos échanges et les compare aux nôtres."
    ),
    "Reconcile": "Rapprocher",
    "Add a peer section, or change its limits": "Ajouter une section pair, ou changer ses limites",
    "Their members may spend here (hours)": "Ses membres peuvent dépenser ici (heures)",
    "Our members may spend there (hours)": "Nos membres peuvent dépenser là-bas (heures)",
    "Net of what the other side spends: 10, 1.5, 1h30 or 90m.": (
        "Déduction faite de ce que l'autre côté dépense\u00a0: 10, 1,5, 1h30 ou 90m."
    ),
    "Save the peer": "Enregistrer la section pair",
    "Latest exchanges": "Derniers échanges",
    "Check and export": "Vérification et export",
    "Check the ledger": "Vérifier le journal",
    "Re-reads every entry: the hash chain, each balance derived again, the sum at zero.": (
        "Relit chaque écriture\u00a0: la chaîne de hachage, chaque solde recalculé, la somme "
        "à zéro."
    ),
    "Export the accounts (CSV)": "Exporter les comptes (CSV)",
    "Export the exchanges (CSV)": "Exporter les échanges (CSV)",
    "sel-status-open": "ouvert",
    "sel-status-requested": "demandé, à approuver",
    "sel-status-closed": "fermé",
    "sel-kind-member": "membre",
    "sel-kind-clearing": "section pair",
    "SEL accounts": "Comptes SEL",
    "Open a member account": "Ouvrir un compte de membre",
    "Account code": "Code du compte",
    "Lower-case letters, digits, '.', '_' or '-'; it cannot change later.": (
        "Lettres minuscules, chiffres, «\u00a0.\u00a0», «\u00a0_\u00a0» "
        "ou «\u00a0-\u2060\u00a0»\u00a0; il ne pourra plus changer."
    ),
    "Holder's name": "Nom du titulaire",
    "Lower limit (hours)": "Limite basse (heures)",
    "Upper limit (hours)": "Limite haute (heures)",
    "Left empty: the section's default ({limits}).": (
        "Vide\u00a0: la valeur par défaut de la section ({limits})."
    ),
    "The lower limit is 0 or below, the upper 0 or above: 20, 1.5, 1h30 or 90m.": (
        "La limite basse est 0 ou moins, la haute 0 ou plus\u00a0: 20, 1,5, 1h30 ou 90m."
    ),
    "Open the account": "Ouvrir le compte",
    "Then invite its holder, choosing this SEL account:": (
        "Invitez ensuite son titulaire en choisissant ce compte SEL\u00a0:"
    ),
    "All SEL accounts": "Tous les comptes SEL",
    "No SEL account yet.": "Aucun compte SEL pour l'instant.",
    "Approve the account": "Approuver le compte",
    "Close the account": "Fermer le compte",
    "Only an account at zero, with nothing reserved, can close.": (
        "Seul un compte à zéro, sans rien de réservé, peut être fermé."
    ),
    "Open the account again": "Rouvrir le compte",
    "The balance must stay between them.": "Le solde doit rester entre les deux.",
    "Change the limits": "Changer les limites",
    "Exchanges": "Échanges",
    "Cancel this exchange": "Annuler cet échange",
    "confirm: a reversing entry gives the hours back": (
        "confirmer\u00a0: une écriture inverse rend les heures"
    ),
    "Cancel the exchange": "Annuler l'échange",
    "Only the latest ones are shown; the CSV export of the exchanges has them all.": (
        "Seuls les plus récents sont affichés\u00a0; l'export CSV des échanges les contient tous."
    ),
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
    "Note posted; followers receive it.": "Note publiée\u00a0; les abonnés la reçoivent.",
    "Mediator added; invite an account for them on the Accounts page.": (
        "Médiateur ajouté\u00a0; invitez un compte pour lui sur la page Comptes."
    ),
    "Mediator removed; followers are told, their offers end.": (
        "Médiateur retiré\u00a0; les abonnés sont prévenus, ses offres prennent fin."
    ),
    "Peer section saved; its members and ours may now pay each other.": (
        "Section pair enregistrée\u00a0; ses membres et les nôtres peuvent désormais se payer."
    ),
    "SEL account opened.": "Compte SEL ouvert.",
    "Limits changed.": "Limites changées.",
    "Account approved; it is open.": "Compte approuvé\u00a0; il est ouvert.",
    "Account closed.": "Compte fermé.",
    "Account open again.": "Compte rouvert.",
    "Exchange cancelled; a reversing entry gave the hours back.": (
        "Échange annulé\u00a0; une écriture inverse a rendu les heures."
    ),
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
    "tick the box to confirm the removal": "cochez la case pour confirmer le retrait",
    "tick the box to confirm the cancellation": "cochez la case pour confirmer l'annulation",
    "{field}: write hours like 1.5, 1h30 or 90m": (
        "{field}\u00a0: écrivez les heures comme 1,5, 1h30 ou 90m"
    ),
    "{field}: a number of hours, zero or more": "{field}\u00a0: un nombre d'heures, zéro ou plus",
    "the account is already open": "le compte est déjà ouvert",
    "the account is already closed": "le compte est déjà fermé",
    "Exchange": "Échange",
    "Export": "Export",
    "Account status": "Statut du compte",
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
    "the lower limit must be ≤ 0 and the upper limit ≥ 0": (
        "la limite basse doit être ≤ 0 et la limite haute ≥ 0"
    ),
    "limits beyond 100,000 hours are refused": (
        "les limites au-delà de 100\u00a0000 heures sont refusées"
    ),
    "a section cannot be its own SEL peer": "une section ne peut pas être sa propre section pair",
    "the text is empty: nothing to post": "le texte est vide\u00a0: rien à publier",
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
    "sel-status-open": "open",
    "sel-status-requested": "requested, to approve",
    "sel-status-closed": "closed",
    "sel-kind-member": "member",
    "sel-kind-clearing": "peer section",
}
