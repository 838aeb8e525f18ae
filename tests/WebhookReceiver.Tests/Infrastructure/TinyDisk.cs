namespace WebhookReceiver.Tests.Infrastructure;

/// <summary>
/// A small tmpfs file system mounted for one test, which the test can fill to the last byte ("folder full", a real
/// ENOSPC for every process writing to it) and free again. Root ignores file permissions, so a full disk is the fault
/// a test can make for real. Unmounted when disposed, even when the test fails; mounting needs root or sudo.
/// </summary>
public sealed class TinyDisk : IAsyncDisposable
{
    private readonly string _filler;

    private TinyDisk(string path)
    {
        Path = path;
        _filler = System.IO.Path.Combine(path, "filler");
    }

    /// <summary>The mount point: put the files under test here.</summary>
    public string Path { get; }

    public static async Task<TinyDisk> MountAsync(string path, int megabytes)
    {
        Directory.CreateDirectory(path);
        try
        {
            await Command.RunAsRootAsync("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0777", "tmpfs", path);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                "This test mounts a small tmpfs to fill it: it needs root, or sudo without a password. " + ex.Message, ex);
        }

        return new TinyDisk(path);
    }

    /// <summary>Writes a filler file until the file system is full; returns its size.</summary>
    public long Fill()
    {
        // No buffer: each write is a system call, so the one that meets ENOSPC fails here and not later at Dispose.
        using var filler = new FileStream(_filler, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        foreach (var chunk in new[] { 1 << 20, 1 << 12, 1 })
        {
            var bytes = new byte[chunk];
            try
            {
                while (true)
                {
                    filler.Write(bytes);
                }
            }
            catch (IOException)
            {
                // Full for this chunk size; smaller ones may still fit.
            }
        }

        return filler.Length;
    }

    /// <summary>Deletes the filler: the space is back.</summary>
    public void Free() => File.Delete(_filler);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Command.RunAsRootAsync("umount", Path);
        }
        catch (InvalidOperationException)
        {
            // Still busy (a process of the test has not let go yet): detach it now, gone once the last file closes.
            await Command.RunAsRootAsync("umount", "--lazy", Path);
        }
    }
}
