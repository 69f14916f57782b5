package router

// A role is what a statement does with one reference to a configured
// table. Explain shows it (TargetExplanation.Role), and the rule against
// writes on all shards that also use another table asks whether the
// reference's rows are written where they are found (writesFound).
type role uint8

const (
	roleRead     role = iota // only read
	roleInsert               // INSERT INTO
	roleUpdate               // UPDATE
	roleDelete               // DELETE FROM
	roleMerge                // MERGE INTO
	roleCopy                 // COPY (from or to)
	roleTruncate             // TRUNCATE
)

// roleNames are Explain's words, by value.
var roleNames = [...]string{"read", "insert", "update", "delete", "merge", "copy", "truncate"}

// String returns Explain's word for the role.
func (r role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "role(?)"
}

// writesFound reports whether the role writes the rows its statement finds
// (UPDATE, DELETE, MERGE), as opposed to reading them or creating new ones.
func (r role) writesFound() bool {
	return r == roleUpdate || r == roleDelete || r == roleMerge
}
