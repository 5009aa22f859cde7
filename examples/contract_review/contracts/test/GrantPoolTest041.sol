// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title GrantPool
/// @notice A grant pool run by a governor.
contract GrantPoolTest041 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public feeBps;
    uint256 public poolTotal;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public participants;

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
        feeBps = initialFee;
    }

    /// @notice Stop or resume deposits.
    function pauseDeposits(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Send the caller's whole balance back to the caller.
    function withdrawAll() external {
        uint256 amount = stakes[msg.sender];
        require(amount > 0, "nothing to claim");
        stakes[msg.sender] = 0;
        poolTotal -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Add the caller to the member list once.
    function enroll() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        participants.push(msg.sender);
    }

    /// @notice Add the ether sent to the caller's balance.
    function contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        stakes[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Return `account`'s whole balance to it.
    function repay(address payable account) external onlyOwner {
        uint256 amount = stakes[account];
        stakes[account] = 0;
        poolTotal -= amount;
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        emit Withdrawn(account, amount);
    }

    /// @notice `account`'s share of the pool, in basis points.
    function poolShare(address account) external view returns (uint256) {
        if (poolTotal == 0) {
            return 0;
        }
        return stakes[account] * BPS_DENOMINATOR / poolTotal;
    }

    /// @notice Hand the contract to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero address");
        emit OwnerChanged(admin, newOwner);
        admin = newOwner;
    }
}
