# Les dons mensuels une fois la campagne terminée : chacun est arrêté chez Stripe, et son donateur prévenu.
monthly-ended-campaign-over = La campagne est terminée, votre don mensuel a donc été arrêté : plus rien ne sera prélevé. Merci pour tout ce que vous avez donné.
closing-preview-monthly = { $count ->
        [one] Le don mensuel encore en cours sera arrêté chez Stripe : plus rien ne sera prélevé, et son donateur saura pourquoi.
       *[other] Les { $count } dons mensuels encore en cours seront arrêtés chez Stripe : plus rien ne sera prélevé, et chaque donateur saura pourquoi.
    }
