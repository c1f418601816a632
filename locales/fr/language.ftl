language-prompt = Choisissez la langue que je dois utiliser avec vous :
language-changed = C'est fait : je vous parlerai en français désormais.
language-button-en = 🇬🇧 English
language-button-fr = 🇫🇷 Français
