# /spent's need step, the need under an entry in /spending, and what was spent per need on /needs.
spent-ask-need = Which need did this serve?
spent-ask-need-correct = Which need did this serve? It is for { $need } now: pick one, or keep it.
spent-no-need = none in particular
spent-button-no-need = None / general
spent-need-unknown = That need is not on the campaign's list: nothing changed. Tap one of the buttons below the question.
spent-need-use-buttons = Please tap one of the buttons: which need did this serve?
spending-page-need = For: { $need }
needs-spent = 🧾 { $amount } spent on { $need }
