# Organizers only.
broadcast-ask-en = 📣 New broadcast. Send the <b>English</b> text. Telegram's HTML formatting works (&lt;b&gt;, &lt;i&gt;, &lt;a href="…"&gt;). Attach a photo if you like (the text then becomes its caption, up to 1024 characters). Send /cancel to stop.
broadcast-ask-fr = Now send the <b>French</b> text, or tap the button to send the same text to everyone.
broadcast-button-same = Same text for everyone
broadcast-need-text = Please send text, or a photo with a caption.
broadcast-invalid-markup = Telegram refused the { $language } text: { $error }. Please fix the formatting and send the { $language } text again.
broadcast-language-en = English
broadcast-language-fr = French
broadcast-preview-header = 👀 Exactly what { $language } readers will receive ({ $count ->
        [one] 1 subscriber
       *[other] { $count } subscribers
    }):
broadcast-preview-summary = Ready to send to { $total ->
        [one] 1 subscriber
       *[other] { $total } subscribers
    } ({ $en } in English, { $fr } in French).
broadcast-preview-when = It will go out on { $when } ({ $timezone }).
broadcast-button-confirm = ✅ Send now
broadcast-button-confirm-scheduled = ✅ Schedule
broadcast-button-schedule = 🕒 Send at…
broadcast-button-edit = ✏️ Edit
broadcast-button-cancel = ✖️ Cancel
broadcast-ask-when = Send the date and time ({ $timezone }), for example { $example }.
broadcast-bad-when = I could not read that. Use the form { $example }, for a time in the future (within 60 days).
broadcast-discarded = Broadcast discarded.
broadcast-nothing-to-cancel = There is nothing to cancel.
broadcast-queued = 📣 Broadcast #{ $id } is queued; sending starts in a moment.
broadcast-scheduled = 🕒 Broadcast #{ $id } will go out on { $when } ({ $timezone }).
broadcast-progress =
    📣 Broadcast #{ $id }: sending…
    Sent { $sent } · failed { $failed } · blocked { $blocked } · uncertain { $uncertain }
    Remaining { $remaining } of { $total } · about { $eta } s left
broadcast-report =
    📣 Broadcast #{ $id } { $status ->
        [cancelled] was cancelled.
       *[done] is complete.
    }
    Sent: { $sent }
    Failed: { $failed }
    Blocked (now inactive): { $blocked }
    Uncertain (timed out, not resent): { $uncertain }
    Not sent: { $remaining } of { $total }
broadcast-button-stop = ⏹ Cancel this broadcast
broadcast-stopping = Cancelling broadcast #{ $id }…
broadcast-already-over = This broadcast is already over.
broadcast-already-confirmed = Broadcast #{ $id } { $status ->
        [scheduled] is already scheduled.
        [sending] is already being sent.
        [done] was already sent.
        [cancelled] was cancelled.
       *[queued] is already queued.
    } Nothing was sent twice.
broadcast-already-discarded = This draft was already discarded.
broadcast-too-long-archive = The { $language } text is { $count ->
        [one] 1 character
       *[other] { $count } characters
    } too long: /updates shows it under a header, and a Telegram message holds { $max } characters (formatting tags do not count, an emoji counts 2). Please send a shorter { $language } text.
broadcast-too-long-caption = The { $language } text is { $count ->
        [one] 1 character
       *[other] { $count } characters
    } too long: a photo's caption holds { $max } characters (formatting tags do not count, an emoji counts 2). Please send a shorter { $language } text.
