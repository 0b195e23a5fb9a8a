package main

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var read = []string{"get", "list", "watch"}

// The operator's rights: what shopctl's README says a read-write session needs, and no more,
// so a test that passes as the operator proves the README's list is enough.
func operatorRules(leaseVerbs []string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"shopset.dev"}, Resources: []string{"tiers", "shopsets", "shops", "fleetclusters"}, Verbs: read},
		{APIGroups: []string{"shopset.dev"}, Resources: []string{"shops", "fleetclusters"}, Verbs: []string{"patch"}},
		{APIGroups: []string{"argoproj.io"}, Resources: []string{"applications"}, Verbs: []string{"get", "list", "watch", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: leaseVerbs},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create"}},
		{APIGroups: []string{"shopset.dev"}, Resources: []string{"halts", "releaserequests"}, Verbs: read},
		{APIGroups: []string{"shopset.dev"}, Resources: []string{"halts"}, Verbs: []string{"create", "delete", "patch"}},
		{APIGroups: []string{"shopset.dev"}, Resources: []string{"releaserequests"}, Verbs: []string{"create"}},
	}
}

// The approver's rights: an operator's, and approving release requests (their status).
func approverRules() []rbacv1.PolicyRule {
	return append(operatorRules([]string{"get", "list", "watch", "create", "update", "delete"}),
		rbacv1.PolicyRule{APIGroups: []string{"shopset.dev"}, Resources: []string{"releaserequests/status"}, Verbs: []string{"patch"}})
}

// grantRoles makes a ClusterRole and a ClusterRoleBinding for each non-admin user.
func grantRoles(ctx context.Context, cs kubernetes.Interface) error {
	roles := map[string][]rbacv1.PolicyRule{
		"viewer":                   {{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: read}},
		"operator":                 operatorRules([]string{"get", "list", "watch", "create", "update", "delete"}),
		"operator-no-lease-delete": operatorRules([]string{"get", "list", "watch", "create", "update"}),
		"operator-throttled":       operatorRules([]string{"get", "list", "watch", "create", "update", "delete"}),
		"approver":                 approverRules(),
		// Reads the fleet but not Argo CD's Applications: one source forbidden.
		"no-argocd": {
			{APIGroups: []string{"shopset.dev"}, Resources: []string{"*"}, Verbs: read},
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: read},
		},
	}
	for user, rules := range roles {
		name := "testenv:" + user
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("ClusterRole %s: %w", name, err)
		}
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
			Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}},
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("ClusterRoleBinding %s: %w", name, err)
		}
	}
	return nil
}
