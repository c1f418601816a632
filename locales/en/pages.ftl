# Web pages Stripe sends donors back to.
page-success-title = Thank you for your gift
page-success-body = Your payment went through. You will get a thank-you in Telegram in a moment; the money goes to { -beneficiary } and the people sleeping rough in Calais.
page-cancel-title = No payment was made
page-cancel-body = You left the payment page, and nothing was taken. You can give at any time from the bot.
page-back-to-bot = Back to the bot

# The public progress widget (GET /widget), linked or embedded in other sites.
widget-title = { -campaign-name }
widget-raised = { $raised } raised of { $goal }
widget-percent = { $percent }% of the goal
widget-donors = { $donors ->
        [0] no donors yet
        [one] 1 donor
       *[other] { $donors } donors
    }
widget-progress-label = Progress towards the goal
widget-give = Give on Telegram
widget-unavailable = The progress cannot be shown right now. Please try again in a minute.
