progress-line = <b>{ $raised }</b> collectés sur { $goal } ({ $percent } %) · { $donors ->
        [0] aucun donateur pour l'instant
        [one] { $donors } donateur
       *[other] { $donors } donateurs
    }
