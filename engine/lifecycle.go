package engine

import (
	"fmt"
	"strings"
)

// Action is an operator action on a campaign.
type Action string

const (
	ActEdit     Action = "edit"
	ActImport   Action = "import"
	ActDelete   Action = "delete"
	ActStart    Action = "start"
	ActSchedule Action = "schedule"
	ActPause    Action = "pause"
	ActResume   Action = "resume"
	ActStop     Action = "stop"
)

// allowed is the spec's lifecycle table. Reading (report, export, why) is
// allowed in every state and not listed.
var allowed = map[CampaignState][]Action{
	StateDraft:     {ActEdit, ActImport, ActDelete, ActStart, ActSchedule},
	StateScheduled: {ActEdit, ActStart, ActSchedule},
	StateRunning:   {ActPause, ActStop},
	StatePaused:    {ActResume, ActStop},
	StateCompleted: {ActDelete},
	StateFailed:    {ActDelete},
}

// Allowed lists the actions a state permits.
func Allowed(s CampaignState) []Action { return allowed[s] }

// Can reports whether action a is allowed in state s.
func Can(s CampaignState, a Action) bool {
	for _, x := range allowed[s] {
		if x == a {
			return true
		}
	}
	return false
}

// RefusalError says an action is not allowed in the campaign's state.
type RefusalError struct {
	Campaign string
	State    CampaignState
	Action   Action
	Reason   string // set when the state allows it but something else doesn't
}

func (e *RefusalError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("cannot %s campaign %q: %s", e.Action, e.Campaign, e.Reason)
	}
	names := make([]string, 0, len(allowed[e.State]))
	for _, a := range allowed[e.State] {
		names = append(names, string(a))
	}
	can := "nothing but report and export"
	if len(names) > 0 {
		can = strings.Join(names, ", ") + " (and report, export)"
	}
	return fmt.Sprintf("cannot %s campaign %q: it is %s; a %s campaign allows: %s", e.Action, e.Campaign, e.State, e.State, can)
}

func (e *RefusalError) Unwrap() error { return ErrRefused }

func checkAction(c *Campaign, a Action) error {
	if !Can(c.State, a) {
		return &RefusalError{Campaign: c.Name, State: c.State, Action: a}
	}
	return nil
}
