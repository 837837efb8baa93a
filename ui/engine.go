package ui

import (
	"context"
	"io"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

// Engine is every engine operation the UI uses. *engine.Engine satisfies it;
// tests use a fake with fixed data.
type Engine interface {
	Campaigns() ([]*engine.Campaign, error)
	Report(ref string) (*engine.Report, error)
	Start(ref string) error
	Pause(ref string) error
	Resume(ref string) error
	Stop(ref string) error
	DeleteCampaign(ref string) error
	ActiveCalls(cid uint64) []engine.ActiveCall
	ActiveCount(cid uint64) int
	CallsPerMinute(cid uint64) []int
	Leads(cid, after uint64, limit int, match func(*engine.Lead) bool) ([]*engine.Lead, error)
	WhyNot(cid, lid uint64) (*engine.WhyNot, error)
	NextTick() time.Time
	OrgMaxConcurrent() int
	Now() time.Time

	Agents() []engine.Agent
	Numbers() []engine.Number
	CreateCampaign(s engine.CampaignSpec) (*engine.Campaign, error)
	EditCampaign(ref string, s engine.CampaignSpec) (*engine.Campaign, error)
	ImportLeads(ref string, r io.Reader, opts engine.ImportOptions) (*engine.ImportSummary, error)
	DNCList(filter string, limit int) ([]engine.DNCEntry, int, error)
	DNCAdd(raw []string, region, source string) ([]string, error)
	DNCRemove(raw []string, region string) ([]string, error)
	DNCImport(r io.Reader, region, source string) (*engine.DNCImportSummary, error)

	Webhooks(ref string) ([]*engine.OutboxEvent, error)
	ReplayWebhooks(ref string, seqs []uint64) (int, error)
	TestWebhook(ctx context.Context, ref string) (status int, excerpt string, err error)
}

var _ Engine = (*engine.Engine)(nil)

// Events is the engine's change stream as the UI consumes it: Ready is
// signalled when events are pending and Drain takes them. It is an interface
// (not *engine.Subscription) so the stream can come from elsewhere later.
type Events interface {
	Ready() <-chan struct{}
	Drain() []engine.Event
}

// SubscriptionEvents adapts an engine subscription to Events.
func SubscriptionEvents(s *engine.Subscription) Events { return subEvents{s} }

type subEvents struct{ s *engine.Subscription }

func (e subEvents) Ready() <-chan struct{} { return e.s.C }
func (e subEvents) Drain() []engine.Event  { return e.s.Drain() }
