"""Every Redis key the bot uses, built here under one prefix, with its purpose and lifetime."""

from __future__ import annotations

PREFIX = "calais:"


def user(user_id: int) -> str:
    """Hash: locale, whether it was chosen, referral code, the need chosen to give for, how often
    they hear from the campaign (`cadence`) and their quiet hours (`quiet`); for a digest, the
    cut of the last one (`digest_at`, ms), the mark before it (`digest_prev`) and its run
    (`digest_run`). No TTL; deleted by /forget."""
    return f"{PREFIX}user:{user_id}"


def user_prefix() -> str:
    """What user(id) puts before the id: the closing report's feed names the donors' records."""
    return f"{PREFIX}user:"


def photo_file_id(fingerprint: str) -> str:
    """String: Telegram file_id of the uploaded campaign photo, so it is uploaded once. No TTL."""
    return f"{PREFIX}photo:{fingerprint}"


def chart_file_id(fingerprint: str) -> str:
    """String: Telegram file_id of a progress chart already uploaded, keyed by a hash of all it
    shows (locale, totals, goal, labels, day), so each chart is uploaded once for every process.
    TTL 2 days: a chart of older totals or of an earlier day is never asked for again."""
    return f"{PREFIX}chart:{fingerprint}"


def totals() -> str:
    """Hash: raised (net, minor units), gross, donors, donations, refunded, disputed,
    fees_covered, and closed: the closing report's broadcast id once /close confirmed it (set
    with the broadcast, so every update's one read sees it). No TTL."""
    return f"{PREFIX}totals"


def donation(donation_id: str) -> str:
    """Hash: one donation (amount, currency, kind, Stripe ids, locale, referral, public words).
    Kept for accounting; the Telegram id field is removed by /forget. No TTL."""
    return f"{PREFIX}donation:{donation_id}"


def donation_timeline() -> str:
    """Sorted set: donation ids scored by the time Stripe took the money. No TTL."""
    return f"{PREFIX}donations"


def donors() -> str:
    """Set: one entry per distinct donor (Telegram id, else Stripe customer), for the count."""
    return f"{PREFIX}donors"


def reversal(payment_intent_id: str) -> str:
    """Hash: refunded (cumulative) and disputed amounts of one payment, recorded even when the
    refund or dispute arrives before the payment itself. No TTL."""
    return f"{PREFIX}reversal:{payment_intent_id}"


def outbox() -> str:
    """Hash: notice id -> JSON of a message owed to someone (thank-you, failed payment…);
    written in the same atomic step as the fact it reports, deleted once sent."""
    return f"{PREFIX}outbox"


def notice_sent(notice_id: str) -> str:
    """String: marks a notice as already queued once, so a replayed event cannot queue it
    again after it was sent. TTL 90 days, longer than Stripe retries an event."""
    return f"{PREFIX}notice:{notice_id}"


def supporter_words() -> str:
    """List: donation ids with public words of support, newest first, trimmed to 100."""
    return f"{PREFIX}support-words"


def awaiting_input(user_id: int) -> str:
    """String: what the bot asked this user to type (an amount, words of support).
    TTL 15 minutes: an abandoned question must not capture the user's later messages."""
    return f"{PREFIX}awaiting:{user_id}"


def user_subscriptions(user_id: int) -> str:
    """Set: the user's active monthly gifts (Stripe subscription ids). No TTL; /forget."""
    return f"{PREFIX}user:{user_id}:subscriptions"


def user_gifts(user_id: int) -> str:
    """Sorted set: the user's one-off gifts (donation ids) scored by when Stripe took the money,
    written by the ledger's record script, for /mygift and the first-gift suggestion. No TTL;
    /forget."""
    before, after = user_gifts_around()
    return f"{before}{user_id}{after}"


def user_gifts_around() -> tuple[str, str]:
    """What user_gifts(id) puts before and after the id: the script indexing the gifts of an
    earlier release builds the keys of the donors it finds."""
    return f"{PREFIX}user:", ":gifts"


def user_gifts_indexed() -> str:
    """String: set once every one-off gift recorded before user_gifts existed was indexed there.
    No TTL."""
    return f"{PREFIX}user-gifts:indexed"


def subscription(subscription_id: str) -> str:
    """Hash: a monthly gift (user, amount, currency, locale, status, fee, given, since, next
    payment, pause, and an `invoice:<id>` mark per invoice counted into given). No TTL."""
    return f"{PREFIX}subscription:{subscription_id}"


def subscriptions_backfilled() -> str:
    """String: set once the invoices of monthly gifts linked before a subscription kept its
    `given` and `since` were counted into them (monthly_gifts.py). No TTL."""
    return f"{PREFIX}subscriptions:backfilled"


def notice_claim(notice_id: str) -> str:
    """String: the id of the courier delivering this notice right now, taken when its send
    turn comes. TTL half of BROADCAST_RECOVERY_SECONDS, renewed while the send lasts, so a
    crash frees it."""
    return f"{PREFIX}notice-claim:{notice_id}"


def subscribers(locale: str) -> str:
    """Sorted set: active subscribers reading in `locale`, scored by when they joined (ms, unique
    since this release, kept on a language change). A subscriber is in at most one of these;
    blocked ones are in none. No TTL."""
    return f"{PREFIX}subscribers:{locale}"


def digest_subscribers(cadence: str) -> str:
    """Sorted set: the users who chose a `cadence` digest (daily, weekly), scored by when they
    chose it (ms); moved with the user's `cadence` field (bot/broadcasts/preferences.py). Whether
    they still subscribe is read from their hash. No TTL; /forget takes them off."""
    return f"{PREFIX}subscribers:digest:{cadence}"


def digest_run(cadence: str, period: str) -> str:
    """String: the id of the digest run (a broadcast, bot/broadcasts/digests.py) of a cadence for
    a period (the day, or the day of the week's digest), so it is created once. TTL 8 days."""
    return f"{PREFIX}digest-run:{cadence}:{period}"


def digest_cut(cadence: str) -> str:
    """String: the cut (ms) of the last digest run of a cadence; a run is created only when an
    update went out since. No TTL."""
    return f"{PREFIX}digest-cut:{cadence}"


def subscribers_clock() -> str:
    """String: the last join score handed out (ms, or one above the last if that is later);
    a broadcast's cut-off is set from it, so whoever joins after scores above it. No TTL."""
    return f"{PREFIX}subscribers:join-clock"


def blocked_subscribers() -> str:
    """Set: subscribers whose chat refused the bot (403, chat not found, kicked). No TTL."""
    return f"{PREFIX}subscribers:blocked"


def broadcast_sequence() -> str:
    """String counter: the last broadcast id handed out. No TTL."""
    return f"{PREFIX}broadcast:seq"


def broadcast(broadcast_id: int) -> str:
    """Hash: one broadcast (texts per locale, photo, status, counts, progress message). Kept as
    the archive. No TTL."""
    return f"{broadcast_prefix()}{broadcast_id}"


def broadcast_prefix() -> str:
    """What broadcast(id) puts before the id: the script that draws the id names the key."""
    return f"{PREFIX}broadcast:"


def broadcast_archive() -> str:
    """Sorted set: broadcast ids scored by creation time (ms). No TTL."""
    return f"{PREFIX}broadcasts"


def broadcast_pending() -> str:
    """Sorted set: broadcasts waiting to start, scored by when they are due (ms). No TTL."""
    return f"{PREFIX}broadcasts:pending"


def broadcast_active() -> str:
    """String: id of the one broadcast being sent; one at a time keeps each chat under
    Telegram's one-message-per-second limit. Deleted when it ends."""
    return f"{PREFIX}broadcast:active"


def broadcast_recipients(broadcast_id: int, locale: str) -> str:
    """Sorted set: snapshot of the subscribers in `locale` when the broadcast started, made only
    by the release before this one; a broadcast it left being sent finishes from it. Deleted
    when it ends."""
    return f"{PREFIX}broadcast:{broadcast_id}:recipients:{locale}"


def broadcast_stream(broadcast_id: int) -> str:
    """Stream: recipients fed in chunks, read by every process through one consumer group;
    entries are deleted once handled. Deleted when the broadcast ends."""
    return f"{PREFIX}broadcast:{broadcast_id}:queue"


def broadcast_in_flight(broadcast_id: int) -> str:
    """Hash: stream entry id -> deadline (ms) of a send in progress; what survives a crash
    marks an outcome we cannot know. Deleted when the broadcast ends."""
    return f"{PREFIX}broadcast:{broadcast_id}:in-flight"


def broadcast_retried(broadcast_id: int) -> str:
    """Set: stream entries whose send gave its mark back (429, migrated group, network error):
    tried again whether or not their chat is still on a list. Deleted when the broadcast ends."""
    return f"{PREFIX}broadcast:{broadcast_id}:retried"


def broadcast_held(broadcast_id: int) -> str:
    """Sorted set: a broadcast's recipients held for their quiet hours (bot/broadcasts/quiet.py),
    each its stream entry's id and fields as JSON, scored by when their window ends (the
    campaign's wall-clock time read as UTC, ms); put back into the stream when due. Deleted when
    the broadcast ends."""
    return f"{PREFIX}broadcast:{broadcast_id}:held"


def broadcast_parked() -> str:
    """Set: ids of broadcasts left with only recipients held for quiet hours, which gave up the
    one-at-a-time slot (bot/broadcasts/quiet.py) and take it back when one's window ends. No
    TTL; each leaves it when resumed."""
    return f"{PREFIX}broadcasts:parked"


def quiet_custom() -> str:
    """Set: users whose quiet hours are their own window or off (bot/broadcasts/preferences.py),
    so the organizer's preview reads these few and counts everyone else by the default window.
    No TTL; /forget takes them off."""
    return f"{PREFIX}subscribers:quiet-custom"


def broadcast_donors_reached(broadcast_id: int) -> str:
    """Set: the chats a closing report queued as donors (bot/broadcasts/closing.py), so each
    is queued once and not again as a subscriber; /forget takes a chat out. Deleted when the
    broadcast ends."""
    return f"{PREFIX}broadcast:{broadcast_id}:donors"


def broadcast_lock(broadcast_id: int, role: str) -> str:
    """String: which process currently edits the progress message. TTL a few seconds."""
    return f"{PREFIX}broadcast:{broadcast_id}:lock:{role}"


def broadcast_draft(admin_id: int) -> str:
    """Hash: an organizer's broadcast being composed (token, texts, photo, time). TTL 1 day."""
    return f"{PREFIX}broadcast-draft:{admin_id}"


def broadcast_draft_outcome(token: str) -> str:
    """String: what a draft's buttons did, by the draft's random token: the id of the broadcast
    it became, or "discarded", so a second tap or a retry answers instead of acting. TTL 1 day,
    as long as the draft's buttons can matter."""
    return f"{PREFIX}broadcast-draft-done:{token}"


def send_schedule() -> str:
    """String: the next free send slot (µs, Redis clock) shared by every process. TTL 1 min."""
    return f"{PREFIX}telegram:next-slot"


def send_last_reserved() -> str:
    """String: the latest slot a sender reserved (µs, Redis clock), which answers' charges never
    move: a late sender may move its slot only while it is still this one. TTL 1 min."""
    return f"{PREFIX}telegram:last-reserved-slot"


def send_pause() -> str:
    """String: Redis-clock µs until which Telegram asked us to stop (429). TTL = the wait."""
    return f"{PREFIX}telegram:pause-until"


def beneficiary_feed() -> str:
    """List: JSON facts for the beneficiaries (donation, refund, dispute, milestone), appended
    in the same script that records them, removed once announced. No TTL."""
    return f"{PREFIX}beneficiary:feed"


def beneficiary_delivered() -> str:
    """Hash: feed item -> the beneficiary chats (comma-separated ids) that accepted a message
    holding it, while another chat has yet to; deleted with the item. No TTL."""
    return f"{PREFIX}beneficiary:delivered"


def beneficiary_last_batch() -> str:
    """String: when the last donations summary went out (epoch s), to keep one per interval."""
    return f"{PREFIX}beneficiary:last-batch"


def milestones_reached() -> str:
    """Set: milestone amounts (minor units) already announced; each is announced once. No TTL."""
    return f"{PREFIX}milestones"


def referral_totals() -> str:
    """Sorted set: referral code -> money given through it (minor units, gross). No TTL."""
    return f"{PREFIX}referrals"


def shared_link_of(user_id: int) -> str:
    """String: the code of the supporter's own /share link, made once. No TTL; deleted by
    /forget."""
    return f"{PREFIX}share:user:{user_id}"


def shared_link(code: str) -> str:
    """Hash: one supporter's /share link: user (its owner), amount (minor units given through
    it, net of refunds and disputes), donors (distinct). No TTL; deleted by its owner's /forget."""
    return f"{PREFIX}share:link:{code}"


def shared_link_donors(code: str) -> str:
    """Set: the donors (as in `donors`) who gave through one /share link, so each counts once.
    No TTL; deleted by its owner's /forget, a donor's /forget takes their entry out."""
    return f"{PREFIX}share:donors:{code}"


def shared_links_total() -> str:
    """Hash: gifts and amount (minor units, gross) through every supporter's own link, for
    /stats; kept when a supporter uses /forget, as it names nobody. No TTL."""
    return f"{PREFIX}share:total"


def active_subscriptions() -> str:
    """Set: every active monthly gift (Stripe subscription id), for the stats. No TTL."""
    return f"{PREFIX}subscriptions:active"


def paused_subscriptions() -> str:
    """Sorted set: paused monthly gifts (subscription id) by when Stripe resumes them (epoch s),
    for the day-before message. No TTL; a gift leaves it when resumed or ended."""
    return f"{PREFIX}subscriptions:paused"


def telegram_update(update_id: int) -> str:
    """String: a webhook update's claim, the token of the delivery handling it (TTL the claim,
    BROADCAST_RECOVERY_SECONDS, renewed while it is handled), then "done" (TTL 1 day), since
    Telegram redelivers an update until it gets a 200."""
    return f"{PREFIX}telegram-update:{update_id}"


def command_count(user_id: int, window: int) -> str:
    """String: how many messages and taps a user sent in one rate-limit window. TTL 2 windows."""
    return f"{PREFIX}rate:{user_id}:{window}"


def checkout_sessions(window: int) -> str:
    """String: how many Checkout Sessions everyone asked for in one minute (epoch minute), for
    the cap shared by every process. TTL 2 minutes."""
    return f"{PREFIX}checkout-sessions:{window}"


def erasure_marks() -> str:
    """Hash: keyed fingerprint (never the id) of a user who used /forget -> when (epoch s), so
    a later Stripe event for a gift begun before then does not link them again. No TTL."""
    return f"{PREFIX}forget:marks"


def legacy_forget_salt() -> str:
    """String: an earlier release's fingerprint salt, kept beside the fingerprints it keyed;
    deleted at start-up."""
    return f"{PREFIX}forget:salt"


def legacy_forgotten_users() -> str:
    """Set: an earlier release's fingerprints under that salt; deleted at start-up."""
    return f"{PREFIX}forget:fingerprints"


def lease(role: str) -> str:
    """String: the id of the one process holding a role (polling Telegram, a job's period), with
    an expiry its holder renews; a dead holder's lease expires and a sibling takes the role."""
    return f"{PREFIX}lease:{role}"


def job_run(run: str) -> str:
    """String: how far one run of a periodic job got (`run` is the job and its period,
    "reconcile:2026-12-01"): "begun" once a process took it, "done" once one completed it, so
    no process runs that period again and a run left begun is taken over. TTL a few periods."""
    return f"{PREFIX}job-run:{run}"


def legacy_daily_summary_sent(day: str) -> str:
    """String: an earlier release's mark that the summary of `day` was sent (TTL 3 days); read
    only, so the day of the upgrade does not send that day's summary a second time."""
    return f"{PREFIX}daily-summary:{day}"


def daily_summary_chats(day: str) -> str:
    """Set: beneficiary chats the summary of `day` (YYYY-MM-DD) was claimed for, each just
    before its send, so a process taking over a run cut short sends only to the others (never
    twice). TTL 3 days."""
    return f"{PREFIX}daily-summary-chats:{day}"


def receipt_counter() -> str:
    """String: the last tax receipt number given (INCR, bot/donations/receipt_numbers.py); each
    number is also on its donation's hash as `receipt`. No TTL: numbers are never given twice."""
    return f"{PREFIX}receipts:last"


def needs_summary() -> str:
    """Hash: the needs board (bot/donations/needs.py): need:<id> -> cents given to that need,
    filled:<id> -> what filled it (announced once), general -> cents given "where it helps
    most" net of reversals, allocated -> cents of it organizers gave to needs. No TTL."""
    return f"{PREFIX}needs"


def need_announcement(need_id: str) -> str:
    """Hash: token -> the broadcast token of a need just filled, left by the script that filled
    it; deleted in the step that creates its one broadcast. No TTL."""
    return f"{PREFIX}need-filled:{need_id}"


def need_allocation(token: str) -> str:
    """Hash: an organizer's /allocate awaiting confirmation (need, amount, admin). TTL 1 day."""
    return f"{PREFIX}need-allocation:{token}"


def need_allocation_done(token: str) -> str:
    """String: what confirming an allocation did, so a second tap answers instead of acting.
    TTL 1 day, as long as the preview's buttons can matter."""
    return f"{PREFIX}need-allocation-done:{token}"


def spending_sequence() -> str:
    """String counter: the last spending entry number handed out. No TTL."""
    return f"{PREFIX}spending:seq"


def spending_entry(entry_id: int) -> str:
    """Hash: one spending entry (amount in minor units, text per locale, photo file_id, need,
    recorded and corrected times in ms). The organizers' record, not anyone's personal data:
    /forget has nothing to take from it. No TTL; deleted when an organizer removes it."""
    return f"{PREFIX}spending:entry:{entry_id}"


def spending_entries() -> str:
    """Sorted set: spending entry ids scored by when they were recorded (ms). No TTL."""
    return f"{PREFIX}spending:entries"


def spending_summary() -> str:
    """Hash: spent (minor units) and count of the spending entries, moved by the same script as
    each entry, so /progress and the widget read one hash. No TTL."""
    return f"{PREFIX}spending:summary"


def spending_draft(admin_id: int) -> str:
    """Hash: an organizer's spending entry being written or corrected (token, amount, texts,
    photo, need, the entry corrected). TTL 1 day; deleted by /forget."""
    return f"{PREFIX}spending-draft:{admin_id}"


def spending_draft_outcome(token: str) -> str:
    """String: the entry a spending draft's Confirm recorded or corrected, or "discarded", by
    the draft's token, so a second tap answers instead of recording twice. TTL 1 day."""
    return f"{PREFIX}spending-draft-done:{token}"
