# Réservé aux organisateurs.
broadcast-ask-en = 📣 Nouvelle diffusion. Envoyez le texte en <b>anglais</b>. La mise en forme HTML de Telegram fonctionne (&lt;b&gt;, &lt;i&gt;, &lt;a href="…"&gt;). Joignez une photo si vous voulez (le texte devient alors sa légende, 1024 caractères au plus). Envoyez /cancel pour arrêter.
broadcast-ask-fr = Envoyez maintenant le texte en <b>français</b>, ou touchez le bouton pour envoyer le même texte à tout le monde.
broadcast-button-same = Même texte pour tous
broadcast-need-text = Merci d'envoyer un texte, ou une photo avec une légende.
broadcast-invalid-markup = Telegram a refusé le texte { $language } : { $error }. Corrigez la mise en forme et renvoyez le texte { $language }.
broadcast-language-en = anglais
broadcast-language-fr = français
broadcast-preview-header = 👀 Exactement ce que recevront les lecteurs en { $language } ({ $count ->
        [one] { $count } abonné
       *[other] { $count } abonnés
    }) :
broadcast-preview-summary = Prêt à envoyer à { $total ->
        [one] { $total } abonné
       *[other] { $total } abonnés
    } ({ $en } en anglais, { $fr } en français).
broadcast-preview-when = Envoi prévu le { $when } ({ $timezone }).
broadcast-button-confirm = ✅ Envoyer maintenant
broadcast-button-confirm-scheduled = ✅ Programmer
broadcast-button-schedule = 🕒 Envoyer à…
broadcast-button-edit = ✏️ Modifier
broadcast-button-cancel = ✖️ Annuler
broadcast-ask-when = Envoyez la date et l'heure ({ $timezone }), par exemple { $example }.
broadcast-bad-when = Je n'ai pas compris. Utilisez la forme { $example }, pour un moment à venir (dans les 60 jours).
broadcast-discarded = Diffusion abandonnée.
broadcast-nothing-to-cancel = Il n'y a rien à annuler.
broadcast-queued = 📣 La diffusion n° { $id } est en file ; l'envoi commence dans un instant.
broadcast-scheduled = 🕒 La diffusion n° { $id } partira le { $when } ({ $timezone }).
broadcast-progress =
    📣 Diffusion n° { $id } : envoi en cours…
    Envoyés { $sent } · échecs { $failed } · bloqués { $blocked } · incertains { $uncertain }
    Restants { $remaining } sur { $total } · environ { $eta } s
broadcast-report =
    📣 La diffusion n° { $id } { $status ->
        [cancelled] a été annulée.
       *[done] est terminée.
    }
    Envoyés : { $sent }
    Échecs : { $failed }
    Bloqués (désormais inactifs) : { $blocked }
    Incertains (délai dépassé, non renvoyés) : { $uncertain }
    Non envoyés : { $remaining } sur { $total }
broadcast-button-stop = ⏹ Annuler cette diffusion
broadcast-stopping = Annulation de la diffusion n° { $id }…
broadcast-already-over = Cette diffusion est déjà terminée.
broadcast-already-confirmed = La diffusion n° { $id } { $status ->
        [scheduled] est déjà programmée.
        [sending] est déjà en cours d'envoi.
        [done] a déjà été envoyée.
        [cancelled] a été annulée.
       *[queued] est déjà en file d'attente.
    } Rien n'a été envoyé deux fois.
broadcast-already-discarded = Ce brouillon a déjà été abandonné.
broadcast-too-long-archive = Le texte { $language } est trop long de { $count ->
        [one] 1 caractère
       *[other] { $count } caractères
    } : /updates l'affiche sous un en-tête, et un message Telegram contient au plus { $max } caractères (les balises de mise en forme ne comptent pas, un emoji compte pour 2). Merci d'envoyer un texte { $language } plus court.
broadcast-too-long-caption = Le texte { $language } est trop long de { $count ->
        [one] 1 caractère
       *[other] { $count } caractères
    } : la légende d'une photo contient au plus { $max } caractères (les balises de mise en forme ne comptent pas, un emoji compte pour 2). Merci d'envoyer un texte { $language } plus court.
