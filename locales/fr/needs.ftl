# Le tableau des besoins (/needs), le choix d'un besoin avec le montant, et /allocate pour les organisateurs.
command-needs = Ce que vos dons achètent
needs-button-board = 🧺 Ce que vos dons achètent
needs-title = <b>Ce que vos dons achètent</b>
needs-line = { $need } { $bar } { $count } sur { $target }{ $filled ->
    [yes] {" "}✅ objectif atteint
   *[no] {""}
}
needs-general-pool = Dons « là où c'est le plus utile » encore à répartir : { $amount }
needs-none = La collecte ne liste pas de besoins précis : chaque don va là où il est le plus utile.
needs-general = là où c'est le plus utile
needs-button-photo = 📷 { $need }
needs-button-for = Pour : { $need } ▾
needs-pick-title = À quoi votre don doit-il servir ? Chaque besoin indique où en est son financement.
needs-choice = { $need } ({ $count } sur { $target }){ $filled ->
    [yes] {" "}✅
   *[no] {""}
}
needs-filled-choice = Objectif déjà atteint pour { $need } : votre don ira là où il est le plus utile.
needs-unknown = Ce besoin ne figure plus dans la liste. Ouvrez de nouveau /donate pour choisir.
needs-filled-broadcast =
    🎉 <b>{ $need } : l'objectif est atteint !</b>

    Grâce à vous, le compte y est : { $target } sur { $target } ({ $amount }). Merci pour chaque don, petit ou grand. Désormais, les dons choisis pour ce besoin, mensuels compris, vont là où ils sont le plus utiles : voir /needs.
needs-filled-organizer = 🎉 { $need } : objectif atteint. Les abonnés sont prévenus.
beneficiary-need-filled = 🎉 Besoin couvert : { $need }, { $target } sur { $target } ({ $amount }).

allocate-usage = Envoyez /allocate suivi d'un besoin et d'un montant, par exemple : /allocate blankets 150. Besoins : { $ids }
allocate-unknown-need = Aucun besoin ne s'appelle « { $need } ». Besoins : { $ids }
allocate-bad-amount = Je ne sais pas lire ce montant : écrivez-le comme 150 ou 150,50.
allocate-amount-not-positive = Le montant doit être supérieur à zéro.
allocate-too-large = { $amount }, c'est plus que les { $pool } de dons « là où c'est le plus utile » qui restent à répartir. Rien n'a été attribué.
allocate-preview =
    Attribuer { $amount } des dons « là où c'est le plus utile » à <b>{ $need }</b> : { $count ->
        [0] le compteur n'avance pas encore
        [one] le compteur avance de 1
       *[other] le compteur avance de { $count }
    }. Reste à répartir : { $pool }.
allocate-button-confirm = ✅ Attribuer
allocate-already = Cette attribution a déjà été faite ou annulée : rien n'a changé.
allocate-already-allocated = Cette attribution a déjà été faite : rien n'a été annulé.
allocate-done = ✅ { $amount } attribués à { $need }.
