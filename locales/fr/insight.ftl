# Ce que reçoivent les bénéficiaires, et les statistiques des organisateurs.
beneficiary-batch = 💛 { $count ->
        [one] { $count } nouveau don
       *[other] { $count } nouveaux dons
    } depuis le dernier message : { $sum }. Total collecté : { $total } ({ $percent } % de { $goal }).
beneficiary-batch-donor = • { $amount } — { $name }
beneficiary-batch-words = « { $words } » — { $name }
beneficiary-anonymous = anonyme
beneficiary-refund = ↩️ Un remboursement de { $amount } a ramené le total à { $total }.
beneficiary-dispute = ⚠️ Un paiement contesté de { $amount } a été retiré du total, désormais { $total }.
beneficiary-milestone = 🎉 Étape franchie : la collecte a dépassé { $amount } ! Total collecté : { $total } ({ $percent } % de l'objectif).
beneficiary-daily =
    📅 <b>Résumé du { $date }</b>
    Aujourd'hui : { $count ->
        [one] { $count } don
       *[other] { $count } dons
    }, { $sum }
    Total collecté : { $total } ({ $percent } % de { $goal })
    Abonnés : { $subscribers }
    Diffusions envoyées aujourd'hui : { $broadcasts }
stats-text =
    <b>Statistiques de la collecte</b>
    Collecté : { $raised } sur { $goal } ({ $percent } %)
    Dons : { $donations } de { $donors } donateurs, don moyen { $average }
    Donateurs mensuels : { $monthly }, pour { $monthlysum } par mois
    Remboursé : { $refunded } · contesté : { $disputed }
    Abonnés : { $en } en anglais, { $fr } en français, { $blocked } inactifs
stats-broadcasts-title = <b>Dernières diffusions</b>
stats-broadcast-line = n° { $id } du { $date } : { $sent } envoyés, { $failed } échecs, { $blocked } bloqués, { $uncertain } incertains
stats-referrals-title = <b>Meilleurs codes de parrainage</b>
stats-referral-line = { $code } : { $amount }
stats-none = aucun pour l'instant
chart-title = Montant collecté au fil du temps
chart-x-label = Date
chart-y-label = Collecté ({ $currency })
chart-goal = Objectif
chart-raised = Collecté
export-caption = Export des dons : { $count ->
        [one] { $count } ligne
       *[other] { $count } lignes
    }. Aucun identifiant Telegram n'y figure.
link-usage = Utilisation : /link code — lettres, chiffres, _ et -, 64 caractères au plus.
link-text = Lien de partage pour « { $code } » : { $url }
    L'argent donné par les personnes qui ouvrent le bot par ce lien apparaît dans /stats.
reconcile-report = 🔧 Rapprochement avec Stripe : { $count ->
        [one] { $count } don
       *[other] { $count } dons
    } ({ $amount }) avaient été payés sans parvenir au bot et sont maintenant comptés. { $checked } paiements vérifiés.
