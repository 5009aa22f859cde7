// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title StakingPool
/// @notice A pool that records each staker's ether.
contract StakingPoolTest001 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public serviceFeeBps;
    uint256 public poolTotal;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public holders;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        serviceFeeBps = initialFee;
    }

    /// @notice Hand the contract to `newOwner`.
    function setOwner(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero address");
        emit OwnerChanged(admin, newOwner);
        admin = newOwner;
    }

    /// @notice Add the ether sent to the caller's balance.
    function fund() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        stakes[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function distribute(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= holders.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            stakes[holders[i]] += share;
        }
        poolTotal += share * count;
    }

    /// @notice Send the caller's whole balance back to the caller.
    function exitPool() external {
        uint256 amount = stakes[msg.sender];
        require(amount > 0, "nothing to claim");
        stakes[msg.sender] = 0;
        poolTotal -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice `account`'s share of the pool, in basis points.
    function poolShare(address account) external view returns (uint256) {
        if (poolTotal == 0) {
            return 0;
        }
        return stakes[account] * BPS_DENOMINATOR / poolTotal;
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Add the caller to the member list once.
    function enroll() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        holders.push(msg.sender);
    }
}
