# /spent's need step, the need under an entry in /spending, and what was spent per need on /needs.
spent-ask-need = À quel besoin cette dépense a-t-elle servi ?
spent-ask-need-correct = À quel besoin cette dépense a-t-elle servi ? Pour l'instant : { $need }. Choisissez-en un, ou gardez-le.
spent-no-need = aucun en particulier
spent-button-no-need = Aucun / général
spent-need-unknown = Ce besoin ne figure pas dans la liste de la collecte : rien n'a changé. Touchez l'un des boutons sous la question.
spent-need-use-buttons = Touchez l'un des boutons, s'il vous plaît : à quel besoin cette dépense a-t-elle servi ?
spending-page-need = Pour : { $need }
needs-spent = 🧾 { $need } : { $amount } déjà dépensés
