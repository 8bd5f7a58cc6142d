package drivertest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/driver/drivertest"
)

// A vendor package's code under test talks to a driver.Session; the test scripts the device
// and injects a drop after the first command.
func ExampleScripted() {
	dev := drivertest.NewScripted("10.0.0.1:22", map[string]drivertest.Reply{
		"ha": {Output: "This device is a HA MASTER\nThis device is currently ACTIVE (will forward traffic)"},
	})
	var s driver.Session = drivertest.DropAfter(dev, 1)

	out, err := s.Send(context.Background(), "ha")
	fmt.Println(out, err)
	_, err = s.Send(context.Background(), "ha")
	fmt.Println(errors.Is(err, driver.ErrDropped), dev.Commands())
	// Output:
	// This device is a HA MASTER
	// This device is currently ACTIVE (will forward traffic) <nil>
	// true [ha]
}
