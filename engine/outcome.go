package engine

import (
	"slices"
	"time"
)

// Dispose maps a call result to the lead's disposition: from the agent's
// post-call analysis when the agent has analysis enabled and the call was
// answered, else from the call status.
func Dispose(res CallResult, analysis bool) Disposition {
	switch res.Outcome {
	case OutcomeBusy:
		return DispBusy
	case OutcomeNoAnswer:
		return DispNoAnswer
	case OutcomeVoicemail:
		return DispVoicemail
	case OutcomeAnswered:
	default:
		return DispFailed
	}
	if !analysis || res.Analysis == nil {
		return DispAnswered
	}
	switch res.Analysis.NextAction {
	case ActionQualified:
		return DispQualified
	case ActionNotInterested:
		return DispNotInterested
	case ActionCallback:
		return DispCallback
	case ActionDoNotCall:
		return DispDNC
	case ActionVoicemail:
		return DispVoicemail
	}
	if res.Analysis.LeadQualified {
		return DispQualified
	}
	return DispAnswered
}

// nextAttempt decides whether a lead is dialed again and when. A disposition
// in retryOn with attempts left retries after the backoff; a callback with a
// callback time (attempts left) re-queues at that time. Either is pushed to
// the next moment the lead's window is open. A permanent failure (the number
// does not exist) is never retried.
func nextAttempt(c *Campaign, win WindowSet, attempts int, d Disposition, res CallResult, now time.Time) (time.Time, bool) {
	if attempts >= c.RetryPolicy.MaxAttempts || res.Permanent {
		return time.Time{}, false
	}
	var at time.Time
	switch {
	case d == DispCallback && res.Analysis != nil && res.Analysis.CallbackAt != nil:
		at = *res.Analysis.CallbackAt
		if at.Before(now) {
			at = now
		}
	case slices.Contains(c.RetryPolicy.RetryOn, string(d)):
		at = now.Add(time.Duration(c.RetryPolicy.BackoffMinutes) * time.Minute)
	default:
		return time.Time{}, false
	}
	if open := win.NextOpen(at); !open.IsZero() {
		at = open
	}
	return at, true
}
