package versionpath

import (
	"fmt"
	"testing"
)

func benchDeployment(n, bad int) Deployment {
	ctrl := dv("6.5.300")
	f := Deployment{Controller: ctrl, ControllerPrevious: dv("6.5.200"), Gateways: make(map[string]Version, n)}
	old := dv("6.5.200")
	for i := range n {
		f.Gateways[fmt.Sprintf("gw-%05d", i)] = ctrl
		if i < bad {
			f.Gateways[fmt.Sprintf("gw-%05d", i)] = old
		}
	}
	return f
}

// BenchmarkCheck10000Gateways measures CheckControllerHop over 10,000
// gateways: all converged (the common pre-hop case), and with 1 % of them
// behind (violations are built and sorted).
func BenchmarkCheck10000Gateways(b *testing.B) {
	next := dv("6.6.123")
	for _, bad := range []int{0, 100} {
		f := benchDeployment(10000, bad)
		b.Run(fmt.Sprintf("violations=%d", bad), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				err := CheckControllerHop(f, next)
				if (err == nil) != (bad == 0) {
					b.Fatal(err)
				}
			}
		})
	}
}
