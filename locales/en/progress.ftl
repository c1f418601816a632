progress-line = <b>{ $raised }</b> raised of { $goal } ({ $percent }%) · { $donors ->
        [0] no donors yet
        [one] 1 donor
       *[other] { $donors } donors
    }
progress-title = <b>{ -campaign-name }</b>
progress-words-title = <b>Words of support</b>
progress-word = “{ $words }” — { $name }
progress-anonymous = anonymous
