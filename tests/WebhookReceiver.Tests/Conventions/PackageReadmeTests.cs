using WebhookReceiver.Tests.Guest;

namespace WebhookReceiver.Tests.Conventions;

/// <summary>The package's own README (shown on nuget.org) shows the adoption snippet the packed-package test builds.</summary>
public sealed class PackageReadmeTests
{
    [Fact]
    public void The_package_readme_has_the_same_adoption_snippet_as_the_repository_readme()
    {
        Assert.Equal(
            PackedPackageFixture.ReadmeSnippet("README.md"),
            PackedPackageFixture.ReadmeSnippet(Path.Combine("src", "WebhookReceiver.Core", "PACKAGE.md")));
    }
}
