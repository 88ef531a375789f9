using CouponAspire.Contracts.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CouponAspire.Data;

/// <summary>
/// The schema of the product. Tables and columns are snake_case so that the issuance engine's SQL reads naturally.
/// Add a migration with:
/// <c>dotnet ef migrations add &lt;Name&gt; --project CouponAspire.Data --output-dir Migrations</c>
/// </summary>
public sealed class CouponDbContext(DbContextOptions<CouponDbContext> options) : DbContext(options)
{
    public DbSet<CouponPolicy> Policies => Set<CouponPolicy>();
    public DbSet<Coupon> Coupons => Set<Coupon>();
    public DbSet<RequestOutcome> RequestOutcomes => Set<RequestOutcome>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        DefinePolicies(modelBuilder.Entity<CouponPolicy>());
        DefineCoupons(modelBuilder.Entity<Coupon>());
        DefineRequestOutcomes(modelBuilder.Entity<RequestOutcome>());
    }

    private static void DefinePolicies(EntityTypeBuilder<CouponPolicy> policy)
    {
        policy.ToTable("coupon_policies", table =>
        {
            table.HasCheckConstraint("ck_coupon_policies_issued_count_within_total", "issued_count <= total_quantity");
            table.HasCheckConstraint("ck_coupon_policies_issued_count_not_negative", "issued_count >= 0");
            table.HasCheckConstraint("ck_coupon_policies_total_quantity_positive", "total_quantity > 0");
            table.HasCheckConstraint("ck_coupon_policies_window_ordered", "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at");
        });
        policy.HasKey(p => p.Id);
        policy.Property(p => p.Id).UseIdentityAlwaysColumn();
        policy.Property(p => p.Name).HasMaxLength(CouponPolicy.NameMaxLength);
    }

    private static void DefineCoupons(EntityTypeBuilder<Coupon> coupon)
    {
        coupon.ToTable("coupons");
        coupon.HasKey(c => c.Id);
        coupon.Property(c => c.Id).UseIdentityAlwaysColumn();
        coupon.Property(c => c.RequestId).HasMaxLength(CouponRequested.MaxRequestIdLength);
        coupon.HasOne<CouponPolicy>().WithMany().HasForeignKey(c => c.PolicyId).OnDelete(DeleteBehavior.Restrict);

        // The guarantee "one coupon per user and policy" lives here, not only in the engine.
        coupon.HasIndex(c => new { c.PolicyId, c.UserId }).IsUnique();
        coupon.HasIndex(c => c.RequestId).IsUnique();
        coupon.HasIndex(c => c.UserId);
    }

    private static void DefineRequestOutcomes(EntityTypeBuilder<RequestOutcome> outcome)
    {
        outcome.ToTable("request_outcomes");
        outcome.HasKey(o => o.RequestId);
        outcome.Property(o => o.RequestId).HasMaxLength(CouponRequested.MaxRequestIdLength);
        outcome.Property(o => o.Outcome).HasConversion<string>().HasMaxLength(32);
    }
}
