package manager

import (
	"fmt"
	"testing"
)

func TestInFlight(t *testing.T) {
	var nilFlight *InFlight
	nilFlight.start("x")()
	if nilFlight.List() != nil {
		t.Fatal("nil InFlight lists something")
	}
	f := &InFlight{}
	a := f.start("slot 1")
	b := f.start("slot 2")
	if got := fmt.Sprint(f.List()); got != "[slot 1 slot 2]" {
		t.Fatalf("open: %s", got)
	}
	a()
	b()
	if len(f.List()) != 0 {
		t.Fatalf("still open: %v", f.List())
	}
}
