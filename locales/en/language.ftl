language-prompt = Choose the language I should use with you:
language-changed = Done: I will speak English with you from now on.
language-button-en = 🇬🇧 English
language-button-fr = 🇫🇷 Français
