# Monthly gifts once the campaign is over: each is stopped at Stripe, and its donor told why.
monthly-ended-campaign-over = The campaign is over, so your monthly gift has been stopped: nothing more will be taken. Thank you for everything you gave.
closing-preview-monthly = { $count ->
        [one] The 1 monthly gift still running will be stopped at Stripe: nothing more will be taken, and its donor is told why.
       *[other] The { $count } monthly gifts still running will be stopped at Stripe: nothing more will be taken, and each donor is told why.
    }
