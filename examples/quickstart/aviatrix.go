package main

import (
	"context"
	"errors"
)

const aviatrixTarget = "6.7.1574"

var aviatrixFaults = map[string]string{}

func runAviatrix(ctx context.Context, o options) (*result, error) {
	return nil, errors.New("aviatrix: not wired into the quickstart yet")
}
