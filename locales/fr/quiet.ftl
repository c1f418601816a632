# Réservé aux organisateurs : heures calmes dans l'aperçu et le suivi d'une diffusion.
quiet-preview-now = 🌙 { $count ->
        [one] { $count } abonné est dans ses heures calmes en ce moment : il la recevra à partir de { $when }.
       *[other] { $count } abonnés sont dans leurs heures calmes en ce moment : ils la recevront à partir de { $when }.
    }
quiet-preview-then = 🌙 { $count ->
        [one] { $count } abonné sera dans ses heures calmes à ce moment-là : il la recevra à partir de { $when }.
       *[other] { $count } abonnés seront dans leurs heures calmes à ce moment-là : ils la recevront à partir de { $when }.
    }
quiet-preview-urgent = 🔔 Urgent : elle parvient à tout le monde tout de suite, même pendant leurs heures calmes.
quiet-button-urgent = 🔔 Urgent : ignorer les heures calmes
quiet-button-normal = 🌙 Normal : respecter les heures calmes
quiet-held = En attente de la fin des heures calmes : { $count }
