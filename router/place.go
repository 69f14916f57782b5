package router

import "fmt"

// KeyError is a key value that cannot be placed on a shard: the SQLSTATE,
// message and detail the router would send the client.
type KeyError struct {
	Code, Message, Detail string
}

func (e *KeyError) Error() string {
	if e.Detail != "" {
		return e.Message + " (" + e.Detail + ")"
	}
	return e.Message
}

// Place returns the shard that stores a row of table t whose key column
// holds value (text or binary format), for a pooler with shards shards.
// It is the rule INSERT follows, for the offline splitter: a vector goes to
// its nearest centroid's shard, an id to jump(hash(id), shards). A NULL
// value, a malformed value or a shard count the configuration disagrees
// with is a *KeyError.
func (s *Snapshot) Place(t *Table, value Param, shards int) (int, error) {
	if shards < 1 {
		return 0, &KeyError{Code: sqlStateInvalidParameter, Message: fmt.Sprintf("vecshard: %d shards", shards)}
	}
	c := call{s: s, shards: shards}
	defer func() {
		if c.sc != nil {
			s.pool.Put(c.sc)
		}
	}()
	if d, bad := c.checkShards(t); bad {
		return 0, &KeyError{Code: d.Code, Message: d.Message, Detail: d.Detail}
	}
	v := valueSrc{kind: srcParam, text: t.KeyColumn()}
	sh, d := c.value([]Param{value}, t, &v, false)
	switch {
	case d != nil:
		return 0, &KeyError{Code: d.Code, Message: d.Message, Detail: d.Detail}
	case sh == vNull:
		return 0, &KeyError{Code: sqlStateNotNull, Message: fmt.Sprintf("vecshard: NULL sharding key %s: the row of %s cannot be placed on a shard", t.KeyColumn(), t.Name)}
	case sh < 0:
		return 0, &KeyError{Code: sqlStateInvalidParameter, Message: fmt.Sprintf("vecshard: the value of %s cannot be placed on a shard", t.KeyColumn())}
	}
	return sh, nil
}
