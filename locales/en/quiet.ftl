# Organizers only: quiet hours on a broadcast's preview and progress.
quiet-preview-now = 🌙 { $count ->
        [one] 1 subscriber is
       *[other] { $count } subscribers are
    } in quiet hours now: they will get it from { $when }.
quiet-preview-then = 🌙 { $count ->
        [one] 1 subscriber will be
       *[other] { $count } subscribers will be
    } in quiet hours then: they will get it from { $when }.
quiet-preview-urgent = 🔔 Urgent: it reaches everyone at once, even in their quiet hours.
quiet-button-urgent = 🔔 Urgent: ignore quiet hours
quiet-button-normal = 🌙 Normal: respect quiet hours
quiet-held = Held for quiet hours: { $count }
