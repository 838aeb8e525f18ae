using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace WebhookReceiver.Console;

/// <summary><c>WebhookReceiver:Console</c>: the operator console's path and how failed sign-ins are slowed down.</summary>
public sealed class ConsoleOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string Section = "WebhookReceiver:Console";

    /// <summary>Where the console is served, below the request's path base: e.g. <c>/console</c>, or <c>/ops/console</c>.</summary>
    [Required, RegularExpression("^(/[A-Za-z0-9_.-]+)+$", ErrorMessage = "WebhookReceiver:Console:Path must start with '/', not end with one, and hold only letters, digits, '/', '_', '.' and '-'.")]
    public string Path { get; set; } = "/console";

    /// <summary>
    /// Failed sign-ins from one client address within <see cref="SignInFailureWindow"/> before further attempts are refused
    /// (429 with <c>Retry-After</c>) until the window has passed; each failure before that also waits a growing delay
    /// (0.5 s times the failures so far, at most 3 s).
    /// </summary>
    [Range(1, 1000)]
    public int SignInFailureLimit { get; set; } = 5;

    /// <summary>How long a failed sign-in counts against its client address.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SignInFailureWindow { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>The data annotations on <see cref="ConsoleOptions"/>, checked by generated code at start-up.</summary>
[OptionsValidator]
internal sealed partial class ConsoleOptionsAnnotations : IValidateOptions<ConsoleOptions>;
