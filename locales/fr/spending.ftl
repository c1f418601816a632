# /spending pour tout le monde, /spent pour les organisateurs, et ce que l'argent a payé.
command-spending = Ce que l'argent a payé
spending-page =
    🧾 <b>{ $date }</b> · <b>{ $amount }</b> ({ $index } sur { $total })

    { $text }
spending-page-number = n° { $entry }
spending-empty = Rien n'a encore été dépensé. Chaque achat apparaîtra ici, avec son justificatif, dès que les organisateurs l'auront noté.
spending-button-older = ← Plus ancien
spending-button-newer = Plus récent →
spending-button-correct = ✏️ Corriger
spending-button-remove = 🗑 Retirer
# Une ligne sur /progress, le widget et /stats ; « over » quand la dépense dépasse la collecte.
spending-summary =
    { $over ->
        [yes] Dépensé : { $spent } · { $left } de plus que la collecte à ce jour
       *[no] Dépensé : { $spent } · reste à dépenser : { $left }
    }
spending-stats = Dépenses : { $count ->
        [one] 1 entrée
       *[other] { $count } entrées
    }, { $spent } · { $over ->
        [yes] { $left } de plus que la collecte
       *[no] reste à dépenser : { $left }
    }
# /mygift : « Qu'a payé mon don ? »
spending-paid-for-button = 🧾 Qu'a payé mon don ?
spending-paid-for =
    Les dons sont mis en commun : impossible de dire quel euro a payé quoi. Depuis votre premier don, le { $date }, la collecte a dépensé <b>{ $spent }</b> pour :
spending-paid-for-item = • { $date } : { $amount }, { $text }
spending-paid-for-more =
    { $count ->
        [one] …et un achat plus ancien : voir /spending.
       *[other] …et { $count } achats plus anciens : voir /spending.
    }
spending-paid-for-none = Les dons sont mis en commun : impossible de dire quel euro a payé quoi. Depuis votre premier don, le { $date }, rien n'a encore été dépensé ; /spending montrera chaque achat dès que les organisateurs l'auront noté.
# /spent : un organisateur note ce qui a été acheté ou payé.
spent-ask-amount = Combien a été dépensé ? Envoyez le montant, par exemple 120 ou 35,50.
spent-ask-amount-correct = L'entrée n° { $entry } est de { $amount }. Envoyez le bon montant, ou gardez-le.
spent-amount-not-positive = Le montant doit être supérieur à zéro.
spent-amount-not-a-number = Je n'ai pas pu lire un montant. Envoyez seulement des chiffres, par exemple 120 ou 35,50.
spent-amount-too-large = Une entrée ne peut pas dépasser { $max } (dix fois l'objectif) : vérifiez le montant.
spent-ask-en = Qu'est-ce que c'était, en anglais ? Un texte court, { $max } caractères au plus (par exemple « 40 blankets for the Calais night patrol »).
spent-ask-fr = Et en français ?
spent-ask-text-correct = Le texte est pour l'instant : « { $text } ». Envoyez le nouveau texte, ou gardez-le.
spent-need-text = Envoyez le texte dans un message, s'il vous plaît.
spent-text-invisible = Ce texte n'a que des caractères invisibles. Envoyez des mots visibles.
spent-text-too-long = Ce texte fait { $length } caractères ; { $max } au plus, s'il vous plaît.
spent-ask-photo = Envoyez une photo du justificatif ou de ce qui a été acheté, ou touchez Pas de photo.
spent-not-a-photo-text = Ce n'est pas une photo : envoyez une photo, ou touchez Pas de photo plus haut.
spent-not-a-photo = Ce n'est pas une photo. Envoyez-la comme photo (pas comme fichier), ou touchez Pas de photo.
spent-button-keep = Le garder
spent-button-no-photo = Pas de photo
spent-button-confirm = ✅ L'enregistrer
spent-button-confirm-correction = ✅ Le corriger
spent-preview-header = Voici ce que tout le monde verra dans /spending :
spent-preview-summary = { $amount } dépensés. Collecté à ce jour : { $raised } · déjà dépensé : { $spent }.
spent-preview-over = ⚠️ C'est plus que ce qui reste à dépenser ({ $left }). La dépense peut être notée, et /progress dira alors que { $over } de plus ont été dépensés que collectés.
spent-recorded = Enregistré comme entrée n° { $entry } : tout le monde la voit dans /spending.
spent-corrected = Entrée n° { $entry } corrigée.
spent-already-recorded = C'est déjà enregistré, comme entrée n° { $entry }.
spent-discarded = Annulé : rien n'a été enregistré.
spent-already-discarded = Ce brouillon a déjà été annulé.
spent-no-entry = Il n'y a pas d'entrée n° { $entry }. /spending les montre avec leur numéro.
spent-usage = Pour noter une dépense, envoyez /spent. Pour changer l'entrée 3, envoyez /spent edit 3 ; pour la retirer, /spent remove 3.
spent-remove-confirm = Retirer l'entrée n° { $entry } ({ $amount }, { $date }) ? Plus personne ne la verra, et les totaux baisseront.
spent-remove-yes = Oui, la retirer
spent-remove-keep = La garder
spent-removed = Entrée n° { $entry } retirée.
spent-already-removed = Cette entrée a déjà été retirée.
