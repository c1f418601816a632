progress-line = <b>{ $raised }</b> collectés sur { $goal } ({ $percent } %) · { $donors ->
        [0] aucun donateur pour l'instant
        [one] { $donors } donateur
       *[other] { $donors } donateurs
    }
progress-title = <b>{ -campaign-name }</b>
progress-words-title = <b>Mots de soutien</b>
progress-word = « { $words } » — { $name }
progress-anonymous = anonyme
