using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace CouponAspire.LocalInfrastructure;

/// <summary>Where the services a local tool starts are found and where they may listen.</summary>
public static class LocalPorts
{
    /// <summary>A TCP port on the loopback interface that nothing listens on right now.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// The path of a service's assembly that the calling project records with
    /// <c>&lt;AssemblyAttribute Include="System.Reflection.AssemblyMetadataAttribute"&gt;</c> under <paramref name="key"/>.
    /// </summary>
    public static string ServiceAssembly(Assembly tool, string key) =>
        Path.GetFullPath(tool.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!);
}
