forget-confirm = Erase your data? I will forget your language, your subscription to the news and anything you were in the middle of, take the first name and words of support you chose to show off the campaign, and unlink your donations from your Telegram account.
forget-monthly-warning = Your monthly gift keeps going at Stripe: if you want to stop it, do so first with /mygift.
forget-button-yes = Yes, erase my data
forget-button-no = No, keep it
forget-done = Done: I no longer know who you are. Your donations stay in the campaign's accounts (amount, date and Stripe reference), because donation records must be kept for accounting, but nothing links them to your Telegram account any more. If you give again one day, I will thank you as a new supporter. Send /start if you come back.
forget-kept = Nothing was erased.
rate-limited = You are going a bit fast for me. Please wait a minute and try again.
