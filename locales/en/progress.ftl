progress-line = <b>{ $raised }</b> raised of { $goal } ({ $percent }%) · { $donors ->
        [0] no donors yet
        [one] 1 donor
       *[other] { $donors } donors
    }
