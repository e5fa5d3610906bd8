package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"
)

// Attributes are the facts about a session that policy conditions can test. In a CEL
// condition they are the variables:
//
//	now             timestamp  when the session is resolved (use now.getHours("UTC"), ...)
//	client_ip       string     the client's address, e.g. cidr('10.0.0.0/8').containsIP(client_ip)
//	client_network  string     a named network the client is on, e.g. "office"
//	terminal_type   string     "browser", "thin-client", "pc", "mobile", ...
//	user            string     the user id
//	groups          list(string) the user's groups
//
// The network functions of cel-go's ext.Network library (ip, cidr, containsIP, ...) are
// available.
type Attributes struct {
	Time          time.Time
	ClientIP      netip.Addr
	ClientNetwork string
	TerminalType  string
}

// ErrCondition is wrapped by errors about a policy's When condition.
var ErrCondition = errors.New("policy: bad condition")

// conditionEnv builds the CEL environment conditions are compiled in.
func conditionEnv() (*cel.Env, error) {
	return cel.NewEnv(
		ext.Network(),
		cel.Variable("now", cel.TimestampType),
		cel.Variable("client_ip", cel.StringType),
		cel.Variable("client_network", cel.StringType),
		cel.Variable("terminal_type", cel.StringType),
		cel.Variable("user", cel.StringType),
		cel.Variable("groups", cel.ListType(cel.StringType)),
	)
}

// compileCondition type-checks a condition and prepares it for evaluation; a condition
// must produce a bool.
func compileCondition(env *cel.Env, expr string) (cel.Program, error) {
	ast, issues := env.Compile(expr)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrCondition, expr, issues.Err())
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("%w: %q: yields %v, want bool", ErrCondition, expr, ast.OutputType())
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrCondition, expr, err)
	}
	return prg, nil
}

// activation turns a session's subject and attributes into the condition variables.
func activation(subj Subject, attrs Attributes) map[string]any {
	ip := ""
	if attrs.ClientIP.IsValid() {
		ip = attrs.ClientIP.String()
	}
	groups := subj.Groups
	if groups == nil {
		groups = []string{}
	}
	return map[string]any{
		"now":            attrs.Time,
		"client_ip":      ip,
		"client_network": attrs.ClientNetwork,
		"terminal_type":  attrs.TerminalType,
		"user":           subj.User,
		"groups":         groups,
	}
}

// evalCondition runs a compiled condition. An evaluation error (say, client_ip empty where
// the condition parses it) fails resolution rather than silently dropping a restriction.
func evalCondition(prg cel.Program, vars map[string]any) (bool, error) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("yields %T, want bool", out.Value())
	}
	return b, nil
}
