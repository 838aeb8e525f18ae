using Microsoft.Extensions.Options;

namespace WebhookReceiver.Access;

/// <summary>
/// <c>WebhookReceiver:Operators</c> checked at start-up, one line per fault naming the setting: a missing name or key, a role
/// that is not one of <see cref="ReceiverRoles"/>, a name or key used twice (an <c>AdminKeys</c> key included). A key is never
/// printed, only where it is set.
/// </summary>
internal sealed class OperatorsValidator : IValidateOptions<OperatorKeyOptions>
{
    public ValidateOptionsResult Validate(string? name, OperatorKeyOptions options)
    {
        var failures = new List<string>();
        var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < options.AdminKeys.Count; i++)
        {
            if (!string.IsNullOrEmpty(options.AdminKeys[i]))
            {
                keys.TryAdd(options.AdminKeys[i], $"AdminKeys:{i}");
            }
        }

        for (var i = 0; i < options.Operators.Count; i++)
        {
            var person = options.Operators[i];
            if (string.IsNullOrWhiteSpace(person.Name))
            {
                failures.Add($"{Setting(i, "Name")} is empty: give each operator a name (the audit trail shows it).");
            }
            else if (names.TryGetValue(person.Name.Trim(), out var first))
            {
                failures.Add($"{Setting(i, "Name")} is '{person.Name}', the name of {Setting(first, "Name")} too: each operator's name must be unique.");
            }
            else
            {
                names[person.Name.Trim()] = i;
            }

            if (string.IsNullOrWhiteSpace(person.Key))
            {
                failures.Add($"{Setting(i, "Key")} is empty: give each operator its own key, such as `openssl rand -hex 32`.");
            }
            else if (!keys.TryAdd(person.Key, $"Operators:{i}"))
            {
                failures.Add($"{Setting(i, "Key")} is the same key as WebhookReceiver:{keys[person.Key]}: each key must be unique (it names who acted).");
            }

            if (!ReceiverRoles.All.Contains(person.Role.Trim().ToLowerInvariant()))
            {
                failures.Add($"{Setting(i, "Role")} is '{person.Role}': use one of {string.Join(", ", ReceiverRoles.All)}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Setting(int index, string key) => $"WebhookReceiver:Operators:{index}:{key} (env WebhookReceiver__Operators__{index}__{key})";
}
