using System.Net;
using System.Net.Sockets;

namespace CouponAspire.LocalInfrastructure;

/// <summary>Where the servers and services a local tool starts may listen.</summary>
public static class LocalPorts
{
    /// <summary>A TCP port on the loopback interface that nothing listens on right now.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
