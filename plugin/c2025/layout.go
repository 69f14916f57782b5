package main

/*
#include "vecshard_pgdog.h"
*/
import "C"

import "unsafe"

// layout reports the sizes and offsets of the ABI types as Go sees them
// through cgo, named "Type" for a size and "Type.field" for an offset, so a
// test (which cannot use cgo itself) can hold them against ABI.md.
func layout() map[string]uintptr {
	var (
		p   C.Parameter
		q   C.Query
		r   C.Route
		e   C.Error
		o   C.Output
		db  C.DatabaseConfig
		cfg C.Config
		ci  C.CopyInput
		in  C.Input
	)
	return map[string]uintptr{
		"Parameter": unsafe.Sizeof(p), "Parameter.data": unsafe.Offsetof(p.data), "Parameter.format": unsafe.Offsetof(p.format),
		"Query": unsafe.Sizeof(q), "Query.query": unsafe.Offsetof(q.query),
		"Query.num_parameters": unsafe.Offsetof(q.num_parameters), "Query.parameters": unsafe.Offsetof(q.parameters),
		"Route": unsafe.Sizeof(r), "Route.shard": unsafe.Offsetof(r.shard),
		"Route.num_order_by": unsafe.Offsetof(r.num_order_by), "Route.order_by": unsafe.Offsetof(r.order_by),
		"Error": unsafe.Sizeof(e), "Error.code": unsafe.Offsetof(e.code),
		"Error.message": unsafe.Offsetof(e.message), "Error.detail": unsafe.Offsetof(e.detail),
		"Output": unsafe.Sizeof(o), "Output.output": unsafe.Offsetof(o.output),
		"DatabaseConfig": unsafe.Sizeof(db), "DatabaseConfig.role": unsafe.Offsetof(db.role),
		"DatabaseConfig.host": unsafe.Offsetof(db.host), "DatabaseConfig.port": unsafe.Offsetof(db.port),
		"Config": unsafe.Sizeof(cfg), "Config.databases": unsafe.Offsetof(cfg.databases),
		"Config.name": unsafe.Offsetof(cfg.name), "Config.shards": unsafe.Offsetof(cfg.shards),
		"CopyInput": unsafe.Sizeof(ci), "CopyInput.data": unsafe.Offsetof(ci.data),
		"CopyInput.delimiter": unsafe.Offsetof(ci.delimiter), "CopyInput.has_headers": unsafe.Offsetof(ci.has_headers),
		"CopyInput.sharding_column": unsafe.Offsetof(ci.sharding_column),
		"Input":                     unsafe.Sizeof(in), "Input.input_type": unsafe.Offsetof(in.input_type), "Input.input": unsafe.Offsetof(in.input),
		"RoutingInput": unsafe.Sizeof(in.input), "RoutingOutput": unsafe.Sizeof(o.output),
	}
}
