# What the beneficiaries receive, and the organizers' statistics.
beneficiary-batch = 💛 { $count ->
        [one] 1 new donation
       *[other] { $count } new donations
    } since the last message: { $sum }. Total raised: { $total } ({ $percent }% of { $goal }).
beneficiary-batch-donor = • { $amount } — { $name }
beneficiary-batch-words = “{ $words }” — { $name }
beneficiary-anonymous = anonymous
beneficiary-refund = ↩️ A refund of { $amount } lowered the total to { $total }.
beneficiary-dispute = ⚠️ A disputed payment of { $amount } was taken off the total, now { $total }.
beneficiary-milestone = 🎉 Milestone: the campaign has passed { $amount }! Total raised: { $total } ({ $percent }% of the goal).
beneficiary-daily =
    📅 <b>Daily summary, { $date }</b>
    Today: { $count ->
        [one] 1 donation
       *[other] { $count } donations
    }, { $sum }
    Total raised: { $total } ({ $percent }% of { $goal })
    Subscribers: { $subscribers }
    Broadcasts sent today: { $broadcasts }
stats-text =
    <b>Campaign statistics</b>
    Raised: { $raised } of { $goal } ({ $percent }%)
    Donations: { $donations } from { $donors } donors, average gift { $average }
    Monthly donors: { $monthly } giving { $monthlysum } per month
    Refunded: { $refunded } · disputed: { $disputed }
    Subscribers: { $en } in English, { $fr } in French, { $blocked } inactive
stats-broadcasts-title = <b>Last broadcasts</b>
stats-broadcast-line = #{ $id } { $date }: { $sent } sent, { $failed } failed, { $blocked } blocked, { $uncertain } uncertain
stats-referrals-title = <b>Top referral codes</b>
stats-referral-line = { $code }: { $amount }
stats-none = none yet
chart-title = Money raised over time
chart-x-label = Date
chart-y-label = Raised ({ $currency })
chart-goal = Goal
chart-raised = Raised
export-caption = Donations export: { $count ->
        [one] 1 row
       *[other] { $count } rows
    }. No Telegram ids are included.
link-usage = Usage: /link code — letters, digits, _ and -, up to 64 characters.
link-text = Share link for “{ $code }”: { $url }
    Money given by people who start the bot through it appears in /stats.
reconcile-report = 🔧 Reconciliation with Stripe: { $count ->
        [one] 1 donation
       *[other] { $count } donations
    } ({ $amount }) had been paid without reaching the bot and are now counted. { $checked } payments checked.
